;; PNG rows of an RGB image as RGBA with alpha 0, filtered with Paeth (PNG specification, 9.4), with the
;; Adler-32 sums (RFC 1950) of each filtered row: the image's one-time work in region-png.ts, four pixels at a
;; time in 128-bit lanes (the JavaScript loop it replaces took 27-44 ms of an 1800x1200 photo, this 4-9 ms).
;; Compiled to paeth-rows.wasm by scripts/build-wasm.mjs; loaded by paeth-rows.ts, which lays out the memory.
(module
  (memory (export "memory") 1)

  ;; Rows [y0, y1) of the RGB image at $rgb, $w pixels wide, into $out (row y at $out + (y - y0)·(1 + 4w)):
  ;; the filter type byte 4, then R, G, B, 0 per pixel, each byte minus the Paeth predictor of its left, upper
  ;; and upper-left neighbours. Row 0 reads the zero row at $zero as the row above (Paeth is then Sub); a
  ;; row's first pixel has no left neighbours (its predictor is the byte above). The Adler-32 sums of all the
  ;; rows' bytes, (s1, s2) from (1, 0), go to $sums as two i32.
  ;; Memory the caller leaves: 16 bytes after the RGB image and after the zero row (a group reads 16 bytes for
  ;; its 12), 16 bytes after the last row written (a narrow row's group writes past its end: the next row,
  ;; written next, or that margin).
  (func (export "filterRows") (param $rgb i32) (param $zero i32) (param $out i32) (param $sums i32) (param $w i32) (param $y0 i32) (param $y1 i32)
    (local $y i32) (local $x i32) (local $u i32) (local $o i32) (local $i i32) (local $p i32) (local $stride i32) (local $rowRgb i32)
    (local $xv v128) (local $av v128) (local $bv v128) (local $cv v128) (local $lo v128) (local $hi v128)
    (local.set $stride (i32.add (i32.const 1) (i32.shl (local.get $w) (i32.const 2))))
    (local.set $rowRgb (i32.mul (local.get $w) (i32.const 3)))
    (local.set $y (local.get $y0))
    (local.set $o (local.get $out))
    (i32.store (local.get $sums) (i32.const 1))
    (i32.store offset=4 (local.get $sums) (i32.const 0))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u (local.get $y) (local.get $y1)))
        (local.set $x (i32.add (local.get $rgb) (i32.mul (local.get $y) (local.get $rowRgb))))
        (local.set $u (if (result i32) (local.get $y)
          (then (i32.sub (local.get $x) (local.get $rowRgb)))
          (else (local.get $zero))))
        (i32.store8 (local.get $o) (i32.const 4))
        ;; pixel 0: the byte above is the predictor
        (i32.store8 offset=1 (local.get $o) (i32.sub (i32.load8_u (local.get $x)) (i32.load8_u (local.get $u))))
        (i32.store8 offset=2 (local.get $o) (i32.sub (i32.load8_u offset=1 (local.get $x)) (i32.load8_u offset=1 (local.get $u))))
        (i32.store8 offset=3 (local.get $o) (i32.sub (i32.load8_u offset=2 (local.get $x)) (i32.load8_u offset=2 (local.get $u))))
        (i32.store8 offset=4 (local.get $o) (i32.const 0))
        ;; pixels 1…: four at a time; the last group starts at w − 4 (it redoes some pixels: the same bytes),
        ;; or at 1 in a row narrower than 5 pixels (it writes past the row: see above)
        (local.set $i (i32.const 1))
        (block $groupsDone
          (loop $groups
            (br_if $groupsDone (i32.ge_u (local.get $i) (local.get $w)))
            (if (i32.and (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $w)) (i32.ge_u (local.get $w) (i32.const 5)))
              (then (local.set $i (i32.sub (local.get $w) (i32.const 4)))))
            (local.set $p (i32.mul (local.get $i) (i32.const 3)))
            ;; x: the pixels, a: their left neighbours, b: above, c: above left; each as RGBA with alpha 0
            (local.set $xv (i8x16.swizzle (v128.load (i32.add (local.get $x) (local.get $p)))
              (v128.const i8x16 0 1 2 -128 3 4 5 -128 6 7 8 -128 9 10 11 -128)))
            (local.set $av (i8x16.swizzle (v128.load (i32.sub (i32.add (local.get $x) (local.get $p)) (i32.const 3)))
              (v128.const i8x16 0 1 2 -128 3 4 5 -128 6 7 8 -128 9 10 11 -128)))
            (local.set $bv (i8x16.swizzle (v128.load (i32.add (local.get $u) (local.get $p)))
              (v128.const i8x16 0 1 2 -128 3 4 5 -128 6 7 8 -128 9 10 11 -128)))
            (local.set $cv (i8x16.swizzle (v128.load (i32.sub (i32.add (local.get $u) (local.get $p)) (i32.const 3)))
              (v128.const i8x16 0 1 2 -128 3 4 5 -128 6 7 8 -128 9 10 11 -128)))
            (local.set $lo (call $predictor
              (i16x8.extend_low_i8x16_u (local.get $av)) (i16x8.extend_low_i8x16_u (local.get $bv)) (i16x8.extend_low_i8x16_u (local.get $cv))))
            (local.set $hi (call $predictor
              (i16x8.extend_high_i8x16_u (local.get $av)) (i16x8.extend_high_i8x16_u (local.get $bv)) (i16x8.extend_high_i8x16_u (local.get $cv))))
            (v128.store offset=1 (i32.add (local.get $o) (i32.shl (local.get $i) (i32.const 2)))
              (i8x16.sub (local.get $xv) (i8x16.narrow_i16x8_u (local.get $lo) (local.get $hi))))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $groups)))
        (call $adler (local.get $o) (local.get $stride) (local.get $sums))
        (local.set $o (i32.add (local.get $o) (local.get $stride)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $rows))))

  ;; Paeth's predictor in 8 lanes of 16 bits: of a, b, c the one nearest p = a + b − c, ties to a, then b
  (func $predictor (param $a v128) (param $b v128) (param $c v128) (result v128)
    (local $pa v128) (local $pb v128) (local $pc v128) (local $ac v128) (local $bc v128)
    (local.set $bc (i16x8.sub (local.get $b) (local.get $c)))
    (local.set $ac (i16x8.sub (local.get $a) (local.get $c)))
    (local.set $pa (i16x8.abs (local.get $bc)))
    (local.set $pb (i16x8.abs (local.get $ac)))
    (local.set $pc (i16x8.abs (i16x8.add (local.get $ac) (local.get $bc))))
    (v128.bitselect
      (local.get $a)
      (v128.bitselect (local.get $b) (local.get $c) (i16x8.le_s (local.get $pb) (local.get $pc)))
      (v128.and (i16x8.le_s (local.get $pa) (local.get $pb)) (i16x8.le_s (local.get $pa) (local.get $pc)))))

  ;; The Adler-32 sums (s1, s2) at $dst carried over n more bytes at $p, each mod 65521. Groups of 16 bytes
  ;; in lanes, at most 5552 bytes (347 groups: zlib's NMAX) between two reductions; the last bytes one by one.
  (func $adler (param $p i32) (param $n i32) (param $dst i32)
    (local $s1 i64) (local $s2 i64) (local $end i32) (local $chunkEnd i32) (local $k i32)
    (local $vs1 v128) (local $vps v128) (local $vs2 v128) (local $bytes v128)
    (local.set $s1 (i64.load32_u (local.get $dst)))
    (local.set $s2 (i64.load32_u offset=4 (local.get $dst)))
    (local.set $end (i32.add (local.get $p) (local.get $n)))
    (block $chunksDone
      (loop $chunks
        (local.set $k (i32.shr_u (i32.sub (local.get $end) (local.get $p)) (i32.const 4)))
        (br_if $chunksDone (i32.eqz (local.get $k)))
        (if (i32.gt_u (local.get $k) (i32.const 347)) (then (local.set $k (i32.const 347))))
        (local.set $chunkEnd (i32.add (local.get $p) (i32.shl (local.get $k) (i32.const 4))))
        (local.set $vs1 (v128.const i32x4 0 0 0 0))
        (local.set $vps (v128.const i32x4 0 0 0 0))
        (local.set $vs2 (v128.const i32x4 0 0 0 0))
        (loop $groups
          (local.set $bytes (v128.load (local.get $p)))
          ;; vps: the lanes of s1 before each group (s2 gets 16 times their sum); vs2: the bytes weighted
          ;; 16 … 1 by their place in the group
          (local.set $vps (i32x4.add (local.get $vps) (local.get $vs1)))
          (local.set $vs1 (i32x4.add (local.get $vs1)
            (i32x4.extadd_pairwise_i16x8_u (i16x8.extadd_pairwise_i8x16_u (local.get $bytes)))))
          (local.set $vs2 (i32x4.add (local.get $vs2)
            (i32x4.add
              (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_u (local.get $bytes)) (v128.const i16x8 16 15 14 13 12 11 10 9))
              (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_u (local.get $bytes)) (v128.const i16x8 8 7 6 5 4 3 2 1)))))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (br_if $groups (i32.lt_u (local.get $p) (local.get $chunkEnd))))
        (local.set $s2 (i64.rem_u
          (i64.add (local.get $s2)
            (i64.add
              (i64.mul (i64.extend_i32_u (i32.shl (local.get $k) (i32.const 4))) (local.get $s1))
              (i64.add (i64.shl (call $lanesSum (local.get $vps)) (i64.const 4)) (call $lanesSum (local.get $vs2)))))
          (i64.const 65521)))
        (local.set $s1 (i64.rem_u (i64.add (local.get $s1) (call $lanesSum (local.get $vs1))) (i64.const 65521)))
        (br $chunks)))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $s1 (i64.add (local.get $s1) (i64.load8_u (local.get $p))))
        (local.set $s2 (i64.add (local.get $s2) (local.get $s1)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $tail)))
    (i32.store (local.get $dst) (i32.wrap_i64 (i64.rem_u (local.get $s1) (i64.const 65521))))
    (i32.store offset=4 (local.get $dst) (i32.wrap_i64 (i64.rem_u (local.get $s2) (i64.const 65521)))))

  (func $lanesSum (param $v v128) (result i64)
    (i64.add
      (i64.add (i64.extend_i32_u (i32x4.extract_lane 0 (local.get $v))) (i64.extend_i32_u (i32x4.extract_lane 1 (local.get $v))))
      (i64.add (i64.extend_i32_u (i32x4.extract_lane 2 (local.get $v))) (i64.extend_i32_u (i32x4.extract_lane 3 (local.get $v))))))
)
