"""``export-dicom``: explain slices of a DICOM study and write them as DICOM a PACS viewer opens.

One colour Secondary Capture per explained slice (the map over the slice, with a burned-in legend) and
one Parametric Map holding the raw values with their unit, both referencing the source series, with new
UIDs, de-identified as reports are unless ``--include-identifiers`` is given.
"""

from __future__ import annotations

from ..errors import InputError
from . import command
from ._shared import key_value


def _arguments(e) -> None:
    from ..explainers import EXPLAINERS

    e.add_argument("--model", required=True, help="shipped model name, model folder or .keras file")
    e.add_argument("--image", required=True,
                   help="a DICOM study: a zip of one series, a series folder, or a (multi-frame) .dcm file")
    e.add_argument("--slices", default="all", metavar="all|A-B", help="slices to export, numbered from 1")
    e.add_argument("--method", default="grad-cam", choices=EXPLAINERS.names())
    e.add_argument("--output", default="margin", choices=["margin", "probability"])
    e.add_argument("--class", dest="map_class", default=None,
                   help="the class whose maps are exported (default: the most suspicious one)")
    e.add_argument("--param", dest="generic_params", action="append", type=key_value, default=None,
                   metavar="NAME=VALUE", help="any parameter of the method (repeatable); see `explainers`")
    e.add_argument("--display-window", dest="display_window", default=None,
                   help="the window of the overlay's background: file, full, a preset name or CENTRE,WIDTH")
    e.add_argument("--include-identifiers", action="store_true",
                   help="keep the patient and study attributes and the source UIDs (default: de-identified "
                        "as reports are, UIDs replaced by a one-way hash)")
    e.add_argument("--out", required=True, help="output folder (created)")


@command("export-dicom", "explain slices of a DICOM study and write Secondary Capture + Parametric Map", _arguments)
def run(args) -> int:
    from .. import api, slices
    from ..explainers import EXPLAINERS
    from ..export.dicom import export_dicom
    from ..models import load_model
    from ._volume import load_volume, volume_window
    from .explain import gather_params

    given = gather_params(args, EXPLAINERS.get(args.method))
    vol = load_volume(args.image)
    if not vol.headers:
        raise InputError("export-dicom needs a DICOM study (a series zip or folder, or a .dcm file).")
    idx = slices.parse_slices(args.slices, len(vol))
    window = volume_window(vol, args.display_window)
    lm = load_model(args.model)
    images = slices.slice_images(vol, idx, None, window)
    maps = slices.explain_slices(lm, images, idx, args.method, args.output, class_name=args.map_class,
                                 cache=api.DEFAULT_CACHE, **given)
    out = export_dicom(vol, maps, args.out, window, include_identifiers=args.include_identifiers,
                       what=f"model {lm.name}")
    pm = out["parametric_map"]
    print(f"wrote {len(out['secondary_capture'])} Secondary Capture file(s)"
          + (f" and {pm.name}" if pm else " (no Parametric Map: the source has no patient geometry)")
          + f" to {args.out}: {args.method} maps of {maps.class_name!r} ({maps.unit}), "
          + ("with the source's identifiers" if args.include_identifiers else "de-identified"))
    return 0
