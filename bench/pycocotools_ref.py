# The pycocotools side of the benchmarks (bench/pycocotools.js starts it; nothing here is part of gear-seg).
# It imports pycocotools from wherever it was built (PYCOCOTOOLS_PATH, see BENCHMARKS.md) and answers one JSON
# command per line on stdin with one JSON line on stdout, so that the Node side can alternate reference and
# gear-seg runs in one session and take medians. Times are of the library call alone (time.perf_counter).
import hashlib
import json
import sys
import time

try:
    import numpy as np

    # cocodataset/cocoapi's cocoeval.py (master) still says np.float, an alias of the builtin float that numpy
    # 1.24 removed; restoring the alias gives exactly the behaviour it was written for.
    if not hasattr(np, "float"):
        np.float = float
    from pycocotools import mask as maskUtils
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
except Exception as err:  # reported as "not available" by the Node side
    print(json.dumps({"ready": False, "error": f"{type(err).__name__}: {err}"}), flush=True)
    sys.exit(0)

import pycocotools

state = {}


def md5(data):
    return hashlib.md5(data).hexdigest()


def load_masks(cmd):
    """RLE strings (one image size) → RLE objects, and the decoded masks in pycocotools' own layout."""
    h, w = cmd["height"], cmd["width"]
    objs = [{"size": [h, w], "counts": s.encode("ascii")} for s in cmd["strings"]]
    state["objs"] = objs
    state["crowd"] = np.array(cmd.get("crowd", [0] * len(objs)), dtype=np.uint8)
    if cmd.get("decode", True):
        # (h, w, n) column-major uint8: the layout rleEncode reads without a copy (its best case).
        state["masks"] = np.asfortranarray(maskUtils.decode(objs))
    return {"n": len(objs)}


def run_encode(_):
    masks = state["masks"]
    t = time.perf_counter()
    out = maskUtils.encode(masks)
    ms = (time.perf_counter() - t) * 1000
    return {"ms": ms, "check": md5(b"\n".join(o["counts"] for o in out))}


def run_merge(_):
    t = time.perf_counter()
    out = maskUtils.merge(state["objs"])
    ms = (time.perf_counter() - t) * 1000
    return {"ms": ms, "check": md5(out["counts"])}


def run_iou(_):
    objs = state["objs"]
    t = time.perf_counter()
    m = maskUtils.iou(objs, objs, state["crowd"])
    ms = (time.perf_counter() - t) * 1000
    return {"ms": ms, "check": md5(np.ascontiguousarray(m, dtype="<f8").tobytes())}


def run_decode(_):
    t = time.perf_counter()
    masks = maskUtils.decode(state["objs"])
    ms = (time.perf_counter() - t) * 1000
    # per mask, row-major bytes (the layout gear-seg returns), for the identity check
    digest = hashlib.md5()
    for i in range(masks.shape[2]):
        digest.update(np.ascontiguousarray(masks[:, :, i]).tobytes())
    return {"ms": ms, "check": digest.hexdigest()}


def run_cocoeval(cmd):
    """loadRes + evaluate + accumulate + summarize on files already written (one in-process run)."""
    import contextlib
    import io

    t = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(cmd["gt"])
        dt = gt.loadRes(cmd["dt"])
        ev = COCOeval(gt, dt, cmd.get("iouType", "segm"))
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    ms = (time.perf_counter() - t) * 1000
    return {"ms": ms, "stats": [float(x) for x in ev.stats]}


COMMANDS = {
    "load": load_masks,
    "encode": run_encode,
    "merge": run_merge,
    "iou": run_iou,
    "decode": run_decode,
    "cocoeval": run_cocoeval,
}

if len(sys.argv) > 1 and sys.argv[1] == "cocoeval":
    # Whole-process mode (what a user runs): evaluate GT DT [iouType], print the summary to stderr and the 12 stats
    # as JSON on stdout.
    import contextlib

    with contextlib.redirect_stdout(sys.stderr):
        gt = COCO(sys.argv[2])
        dt = gt.loadRes(sys.argv[3])
        ev = COCOeval(gt, dt, sys.argv[4] if len(sys.argv) > 4 else "segm")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    print(json.dumps([float(x) for x in ev.stats]))
    sys.exit(0)

print(json.dumps({"ready": True, "version": getattr(pycocotools, "__version__", "2.0"), "numpy": np.__version__,
                  "path": pycocotools.__file__}), flush=True)
for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    cmd = json.loads(line)
    try:
        reply = COMMANDS[cmd["op"]](cmd)
    except Exception as err:
        reply = {"error": f"{type(err).__name__}: {err}"}
    print(json.dumps(reply), flush=True)
