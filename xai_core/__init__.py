"""xai_core: explain image classifiers (Keras CNNs) with SHAP and friends.

UI-free: usable from Python, from ``python -m xai_core``, and from the
Streamlit pages, which only call into it. The public API::

    import xai_core as xc
    ds = xc.load_dataset("synthetic-brain-mri")
    model = xc.load_model("brain-basic-cnn")
    e = xc.explain(model, ds.image("test", 0), output="margin", top_k=4, max_evals=1000)
    e.values.shape, e.residuals
"""

from .api import explain, explain_repeats, predict_split, resolve_classes  # noqa: E402
from .data import DATASETS, Dataset, list_datasets, load_dataset  # noqa: E402
from .data.images import read_image  # noqa: E402
from .errors import ImageError, InputError, ModelError, XAIError  # noqa: E402
from .explainers import EXPLAINERS  # noqa: E402
from .explanation import Explanation  # noqa: E402
from .metrics import METRICS  # noqa: E402
from .models import OUTPUT_SPACES, LoadedModel, list_models, load_model  # noqa: E402
from .models.architectures import ARCHITECTURES  # noqa: E402
from .segmenters import SEGMENTERS  # noqa: E402
from .version import __version__  # noqa: E402

__all__ = [
    "ARCHITECTURES", "DATASETS", "EXPLAINERS", "METRICS", "OUTPUT_SPACES", "SEGMENTERS", "Dataset", "Explanation", "ImageError",
    "InputError", "LoadedModel", "ModelError", "XAIError", "explain", "explain_repeats", "list_datasets", "list_models",
    "load_dataset", "load_model", "predict_split", "read_image", "resolve_classes", "__version__",
]
