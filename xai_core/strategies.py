"""What does the model do across a dataset? Strategies discovered by clustering an audit's maps.

Spectral Relevance Analysis (SpRAy; Lapuschkin et al., "Unmasking Clever Hans predictors and assessing what
machines really learn", Nature Communications 10, 1096, 2019): explain many scans, cluster their relevance
maps spectrally, and look at each cluster's mean map. A cluster whose evidence sits away from the finding
(in a corner, a border band, outside the body) is a strategy worth a look: that is how a horse classifier was
caught reading a copyright tag. Nothing here reads a shortcut's mask: the flags come from where the evidence
lies, so a shortcut nobody knew about is found the same way.

How, step by step (every step deterministic per seed):

1. Each stored map (``audit/maps.py``: 32x32 area means) keeps its positive part (what raised the class
   score), smoothed by a Gaussian of one cell and normalised to sum 1: a distribution of evidence over the
   image. Maps with no positive evidence are left out and counted.
2. Distances between maps are Hellinger distances (Euclidean distance of the square roots), the natural
   metric between distributions.
3. A sparse, symmetric k-nearest-neighbour graph with self-tuning weights (Zelnik-Manor & Perona, NIPS
   2004: ``exp(-d^2 / (s_i s_j))``, ``s_i`` the distance to the 7th neighbour), so the cost grows about
   linearly with the number of maps.
4. The number of clusters is the largest eigengap of the normalised graph Laplacian (von Luxburg, "A
   tutorial on spectral clustering", 2007) unless given; scikit-learn's ``SpectralClustering``
   (``assign_labels="cluster_qr"``, Damle et al. 2019: no random restarts) assigns the clusters, and the
   Laplacian's 2nd and 3rd eigenvectors give the 2-D embedding drawn on the page.
5. Per cluster: size, class mix, accuracy, the prototype (mean evidence map), the members nearest to it,
   and where its evidence sits (``EvidenceShares``), with a plain description and a flag with its reason.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from .errors import InputError

NEIGHBOURS = 10  # k of the k-nearest-neighbour graph
SCALE_NEIGHBOUR = 7  # self-tuning scale: the distance to this neighbour
MAX_CLUSTERS = 10  # the eigengap is searched over 2..MAX_CLUSTERS
NEAREST = 6  # members shown per cluster, nearest to its prototype first
# Where evidence counts as "away from the finding". Each share is of the cluster's positive evidence; the
# area a uniform map would give is in brackets, so every bar is several times chance.
CORNER_SIDE = 0.25  # a corner is the square of a quarter of the side (6.25% of the image)
CORNER_FLAG = 0.25  # 4x its area
BORDER_SIDE = 1 / 16  # the border band: the outer sixteenth on every side (23% of the image)
BORDER_FLAG = 0.6  # 2.6x its area
OUTSIDE_FLAG = 0.5  # half the evidence outside the body/foreground
LESION_RATIO_FLAG = 1.5  # evidence on the lesion at most 1.5x the lesion's area: no better than a flat map
CORNERS = ("top-left", "top-right", "bottom-left", "bottom-right")


@dataclass
class EvidenceShares:
    """Where a cluster's positive evidence sits, as shares of it (means over members)."""

    corners: dict[str, float]
    border: float
    outside: float | None  # outside the body/foreground; None without images
    lesion: float | None  # on the lesion; None when no member has a lesion mask
    lesion_area: float | None  # the lesion's share of the image (what a flat map would put on it)


@dataclass
class Cluster:
    id: int
    size: int
    true_classes: dict[str, int]
    predicted_classes: dict[str, int]
    accuracy: float | None
    prototype: np.ndarray  # (S, S) mean evidence map, sums to 1
    nearest: list[str]  # image ids nearest to the prototype
    shares: EvidenceShares
    description: str
    suspicious: bool
    reason: str

    def to_json(self) -> dict:
        d = asdict(self)
        d["prototype"] = np.round(self.prototype, 6).tolist()
        return d


@dataclass
class Strategies:
    method: str
    class_name: str | None
    k: int
    k_chosen_by: str  # "eigengap" or "given"
    eigenvalues: list[float]
    clusters: list[Cluster]
    image_ids: list[str]
    labels: np.ndarray  # (N,) cluster id per map
    embedding: np.ndarray  # (N, 2)
    left_out: int  # maps with no positive evidence
    members: list[dict] = field(default_factory=list)  # per kept map: true_class, predicted_class, correct
    meta: dict = field(default_factory=dict)
    withheld: dict = field(default_factory=dict)  # {gate's reason: maps}: never clustered (xai_core.gates)

    def to_json(self) -> dict:
        return {"method": self.method, "class": self.class_name, "k": self.k, "k_chosen_by": self.k_chosen_by,
                "eigenvalues": [round(float(e), 6) for e in self.eigenvalues], "left_out": self.left_out,
                "withheld": dict(self.withheld),
                "clusters": [c.to_json() for c in self.clusters], "meta": self.meta,
                "members": [{"image_id": i, "cluster": int(c), "x": round(float(x), 6), "y": round(float(y), 6),
                             **{k: _plain(v) for k, v in m.items()}}
                            for i, c, (x, y), m in zip(self.image_ids, self.labels, self.embedding,
                                                       self.members or [{}] * len(self.image_ids))]}

    def table(self) -> list[dict]:
        return cluster_table(self.to_json())


def cluster_table(doc: dict) -> list[dict]:
    """One row per cluster of a strategies document (``Strategies.to_json()``), for the CLI, the page and CSV."""
    rows = []
    for c in doc["clusters"]:
        s = c["shares"]
        corner, share = max(s["corners"].items(), key=lambda kv: kv[1])
        rows.append({"cluster": c["id"], "size": c["size"], "accuracy": c["accuracy"],
                     "true_classes": _mix(c["true_classes"]), "predicted_classes": _mix(c["predicted_classes"]),
                     "lesion_share": s["lesion"], "lesion_area": s["lesion_area"], "top_corner": corner,
                     "corner_share": share, "border_share": s["border"], "outside_share": s["outside"],
                     "suspicious": c["suspicious"], "reason": c["reason"], "description": c["description"]})
    return rows


def _plain(v):
    return None if v is None or (isinstance(v, float) and v != v) else (bool(v) if isinstance(v, np.bool_) else v)


def _mix(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def evidence(maps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, S, S) signed maps -> (distributions (M, S, S), kept (N,) bool): positive part, smoothed, sum 1."""
    from scipy.ndimage import gaussian_filter

    pos = np.clip(np.asarray(maps, np.float64), 0, None)
    pos = np.stack([gaussian_filter(m, 1.0, mode="nearest") for m in pos]) if len(pos) else pos
    total = pos.reshape(len(pos), -1).sum(1)
    kept = total > 1e-12 * max(1.0, float(np.abs(maps).max(initial=0.0)))
    return pos[kept] / total[kept, None, None], kept


def affinity(features: np.ndarray, neighbours: int = NEIGHBOURS):
    """Sparse symmetric k-NN affinity with self-tuning weights (CSR, zero diagonal)."""
    from scipy.sparse import csr_matrix
    from sklearn.neighbors import NearestNeighbors

    n = len(features)
    k = min(neighbours, n - 1)
    dist, idx = NearestNeighbors(n_neighbors=k + 1).fit(features).kneighbors(features)
    dist, idx = dist[:, 1:], idx[:, 1:]  # drop each point itself
    scale = np.maximum(dist[:, min(SCALE_NEIGHBOUR, k) - 1], 1e-12)
    w = np.exp(-dist ** 2 / (scale[:, None] * scale[idx]))
    A = csr_matrix((w.ravel(), (np.repeat(np.arange(n), k), idx.ravel())), shape=(n, n))
    return A.maximum(A.T).tocsr()


def spectrum(A, count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``count`` smallest eigenvalues of the normalised Laplacian, their eigenvectors and sqrt(degree)."""
    from scipy.sparse import diags
    from scipy.sparse.linalg import eigsh

    deg = np.asarray(A.sum(1)).ravel()
    d = np.sqrt(np.maximum(deg, 1e-12))
    M = diags(1 / d) @ A @ diags(1 / d)  # I - L_sym: its largest eigenvalues are L's smallest
    n = A.shape[0]
    count = min(count, n - 1)
    if n <= 600:
        mu, U = np.linalg.eigh(M.toarray())
        mu, U = mu[::-1][:count], U[:, ::-1][:, :count]
    else:
        v0 = np.random.default_rng(seed).uniform(-1, 1, n)
        mu, U = eigsh(M, k=count, which="LA", v0=v0, tol=1e-8)
        order = np.argsort(-mu)
        mu, U = mu[order], U[:, order]
    U = U * np.sign(U[np.argmax(np.abs(U), 0), np.arange(U.shape[1])])  # fixed signs: same plot every run
    return np.clip(1 - mu, 0, 2), U, d


def eigengap(eigenvalues: np.ndarray, most: int = MAX_CLUSTERS) -> int:
    """The k in 2..most after which the Laplacian's spectrum jumps the most."""
    ev = np.asarray(eigenvalues)[: most + 1]
    if len(ev) < 3:
        return max(1, len(ev) - 1)
    gaps = np.diff(ev)  # gaps[i] = ev[i+1] - ev[i]: k = i + 1 clusters before the jump
    return int(np.argmax(gaps[1:]) + 2)


class TooFewMaps(InputError):
    """Fewer than 3 maps to cluster: nothing is wrong, the selection is small (pages say so as a note)."""


def cluster_maps(maps: np.ndarray, k: int | str = "auto", seed: int = 0) -> dict:
    """Cluster (N, S, S) signed maps: {labels (over kept maps), kept, k, k_chosen_by, eigenvalues, embedding}.

    Labels are numbered by cluster size (0 the largest), ties by first member, so they are stable."""
    from sklearn.cluster import SpectralClustering

    p, kept = evidence(maps)
    if len(p) < 3:
        raise TooFewMaps(f"Strategies need at least 3 maps with positive evidence; this selection has {len(p)}.")
    features = np.sqrt(p.reshape(len(p), -1))
    A = affinity(features)
    ev, U, d = spectrum(A, MAX_CLUSTERS + 1, seed)
    if k == "auto":
        n_clusters, how = eigengap(ev), "eigengap"
    else:
        n_clusters, how = int(k), "given"
        if not 1 <= n_clusters <= len(p):
            raise InputError(f"--k must be between 1 and the number of maps ({len(p)}); got {k}.")
    if n_clusters == 1:
        raw = np.zeros(len(p), int)
    else:
        import warnings

        with warnings.catch_warnings():  # well-separated strategies make a disconnected graph: that is fine
            warnings.filterwarnings("ignore", "Graph is not fully connected")
            raw = SpectralClustering(n_clusters, affinity="precomputed", assign_labels="cluster_qr",
                                     random_state=seed).fit_predict(A)
    order = sorted(set(raw), key=lambda c: (-(raw == c).sum(), int(np.argmax(raw == c))))
    labels = np.array([order.index(c) for c in raw])
    emb = U[:, 1:3] / d[:, None] if U.shape[1] >= 3 else np.zeros((len(p), 2))
    return {"labels": labels, "kept": kept, "k": n_clusters, "k_chosen_by": how, "eigenvalues": ev,
            "embedding": emb, "evidence": p, "features": features}


def region_masks(size: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The four corner squares and the border band on a size x size grid (bool)."""
    c = max(1, int(round(size * CORNER_SIDE)))
    corners = {}
    for name, (r, col) in zip(CORNERS, ((0, 0), (0, 1), (1, 0), (1, 1))):
        m = np.zeros((size, size), bool)
        m[(slice(0, c) if r == 0 else slice(size - c, size)), (slice(0, c) if col == 0 else slice(size - c, size))] = True
        corners[name] = m
    b = max(1, int(round(size * BORDER_SIDE)))
    border = np.ones((size, size), bool)
    border[b:-b, b:-b] = False
    return corners, border


def foreground(image: np.ndarray, size: int) -> np.ndarray:
    """The body/foreground share of each of size x size cells: pixels brighter than a tenth of the bright end."""
    from scipy.ndimage import gaussian_filter
    from skimage.transform import resize_local_mean

    g = np.asarray(image, np.float64)
    g = g.mean(-1) if g.ndim == 3 else g
    g = gaussian_filter(g, max(1.0, g.shape[0] / 64))
    fg = (g > 0.1 * np.percentile(g, 99)).astype(np.float64)
    return resize_local_mean(fg, (size, size), grid_mode=True, preserve_range=True)


def area_fraction(mask: np.ndarray, size: int) -> np.ndarray:
    from skimage.transform import resize_local_mean

    m = np.asarray(mask, np.float64)
    m = m.max(-1) if m.ndim == 3 else m
    return resize_local_mean(m, (size, size), grid_mode=True, preserve_range=True)


def shares(p: np.ndarray, fg: list | None = None, lesions: list | None = None) -> EvidenceShares:
    """Mean shares over members ``p`` (M, S, S); ``fg``/``lesions``: per member (S, S) fractions or None."""
    size = p.shape[-1]
    corners, border = region_masks(size)
    out = EvidenceShares({n: float(p[:, m].sum(1).mean()) for n, m in corners.items()},
                         float(p[:, border].sum(1).mean()), None, None, None)
    if fg is not None and all(f is not None for f in fg):
        out.outside = float(np.mean([(q * (1 - f)).sum() for q, f in zip(p, fg)]))
    if lesions is not None:
        pairs = [(q, m) for q, m in zip(p, lesions) if m is not None and m.sum() > 0]
        if pairs:
            out.lesion = float(np.mean([(q * m).sum() for q, m in pairs]))
            out.lesion_area = float(np.mean([m.mean() for _, m in pairs]))
    return out


def judge(s: EvidenceShares) -> tuple[bool, str, str]:
    """(suspicious, reason, where-the-evidence-sits in words) of a cluster's shares."""
    corner, share = max(s.corners.items(), key=lambda kv: kv[1])
    reasons = []
    if share >= CORNER_FLAG:
        reasons.append(f"{share:.0%} of its evidence is in the {corner} corner (a flat map puts "
                       f"{CORNER_SIDE ** 2:.0%} there)")
    if s.border >= BORDER_FLAG:
        reasons.append(f"{s.border:.0%} of its evidence is in the border band of the image")
    if s.outside is not None and s.outside >= OUTSIDE_FLAG:
        reasons.append(f"{s.outside:.0%} of its evidence is outside the body")
    if s.lesion is not None and s.lesion_area and s.lesion <= LESION_RATIO_FLAG * s.lesion_area:
        reasons.append(f"only {s.lesion:.0%} of its evidence is on the lesion, no more than a flat map "
                       f"({s.lesion_area:.0%})")
    if reasons:
        where = reasons[0].split(" (")[0]
    elif s.lesion is not None:
        where = f"{s.lesion:.0%} of its evidence is on the lesion ({s.lesion_area:.0%} of the image)"
    else:
        where = "its evidence is inside the image, away from corners and borders"
    return bool(reasons), "; ".join(reasons), where


def describe_clusters(result: dict, ids: list[str], meta: list[dict], fg: list | None, lesions: list | None
                      ) -> list[Cluster]:
    """Clusters with their mix, prototype, nearest members, shares and flags (``meta``: per kept map)."""
    p, labels, feats = result["evidence"], result["labels"], result["features"]
    out = []
    for c in range(int(labels.max()) + 1):
        idx = np.flatnonzero(labels == c)
        members = [meta[i] for i in idx]
        proto = p[idx].mean(0)
        centre = feats[idx].mean(0)
        near = idx[np.argsort(((feats[idx] - centre) ** 2).sum(1), kind="stable")[:NEAREST]]
        true = _count(m.get("true_class") for m in members)
        pred = _count(m.get("predicted_class") for m in members)
        correct = [m.get("correct") for m in members if m.get("correct") is not None]
        s = shares(p[idx], [fg[i] for i in idx] if fg is not None else None,
                   [lesions[i] for i in idx] if lesions is not None else None)
        flag, reason, where = judge(s)
        top = max(pred.items(), key=lambda kv: kv[1]) if pred else ("?", 0)
        desc = (f"{len(idx)} scans, {top[1] / len(idx):.0%} predicted {top[0]}"
                + (f", {np.mean(correct):.0%} correct" if correct else "") + f"; {where}.")
        out.append(Cluster(c, len(idx), true, pred, float(np.mean(correct)) if correct else None, proto,
                           [ids[i] for i in near], s, desc, flag, reason))
    return out


def _count(values) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        if v is not None and v == v:
            out[str(v)] = out.get(str(v), 0) + 1
    return out


def discover(maps: np.ndarray, ids: list[str], meta: list[dict], images: list | None = None,
             masks: list | None = None, k: int | str = "auto", seed: int = 0, method: str = "",
             class_name: str | None = None) -> Strategies:
    """Strategies in (N, S, S) maps with per-map ``meta`` (true_class, predicted_class, correct); ``images``
    and ``masks`` (per map, any size, or None) add the outside-the-body and on-the-lesion shares."""
    maps = np.asarray(maps, np.float64)
    if maps.ndim != 3 or len(maps) != len(ids) or len(meta) != len(ids):
        raise InputError("maps, ids and meta must describe the same scans.")
    r = cluster_maps(maps, k, seed)
    kept = np.flatnonzero(r["kept"])
    size = maps.shape[-1]
    fg = [foreground(images[i], size) for i in kept] if images is not None else None
    lesions = ([None if masks[i] is None else area_fraction(masks[i], size) for i in kept]
               if masks is not None else None)
    kept_ids = [ids[i] for i in kept]
    clusters = describe_clusters(r, kept_ids, [meta[i] for i in kept], fg, lesions)
    return Strategies(method, class_name, r["k"], r["k_chosen_by"], [float(e) for e in r["eigenvalues"]],
                      clusters, kept_ids, r["labels"], r["embedding"], int(len(ids) - len(kept)),
                      [dict(meta[i]) for i in kept])


def from_audit(folder, method: str | None = None, class_name: str | None = None, k: int | str = "auto",
               seed: int = 0, with_images: bool = True) -> Strategies:
    """Strategies of a finished audit's stored maps, for one method (the audit's first by default) and,
    optionally, one explained class. Images and lesion masks are read back from the audited dataset
    (never a shortcut's mask)."""
    from pathlib import Path

    import pandas as pd

    from .audit.batch import ImageSource
    from .audit.maps import read_maps
    from .audit.storage import ROWS_FILE, AuditStore

    folder = Path(folder)
    spec = AuditStore(folder).spec()
    stored = read_maps(folder)
    if stored is None or not len(stored["maps"]):
        raise InputError(f"The audit in {folder.name} kept no maps (it was made before audits kept them, or it "
                         "has not finished); run the audit again into a new folder.")
    method = method or spec.methods[0]
    if method not in spec.methods:
        raise InputError(f"This audit ran {', '.join(spec.methods)}; it has no maps of {method!r}.")
    rows = pd.read_parquet(AuditStore(folder).file(ROWS_FILE))
    rows = rows[(rows["method"] == method) & (rows["class_index"] >= 0)]
    if class_name is not None:
        if class_name not in set(rows["class"].dropna()):
            raise InputError(f"No {method} map of the class {class_name!r} in this audit; it explained "
                             f"{', '.join(sorted(set(rows['class'].dropna())))}.")
        rows = rows[rows["class"] == class_name]
    # as the leaderboard does (audit.summary): a withheld map (out of domain, flat output, negligible) is no strategy
    why = rows["withheld"].fillna("").astype(str) if "withheld" in rows else pd.Series("", index=rows.index)
    withheld, rows = {str(k): int(v) for k, v in why[why != ""].value_counts().items()}, rows[why == ""]
    if not len(rows):
        raise InputError(f"Every {method} map here was withheld ({'; '.join(withheld)}): nothing to cluster.")
    key = {(i, m, int(c)): n for n, (i, m, c) in enumerate(zip(stored["image_id"], stored["method"],
                                                               stored["class_index"]))}
    pos = [key.get((r.image_id, r.method, int(r.class_index))) for r in rows.itertuples()]
    rows = rows[[p is not None for p in pos]]
    pos = [p for p in pos if p is not None]
    maps = stored["maps"][pos]
    ids = [str(i) for i in rows["image_id"]]
    meta = [{"true_class": r.true_class, "predicted_class": r.predicted_class,
             "correct": None if pd.isna(r.correct) else bool(r.correct)} for r in rows.itertuples()]
    images = masks = None
    if with_images:
        source = ImageSource(spec)
        loaded = [source.load(i) for i in ids]
        images = [im for im, _, _ in loaded]
        masks = [m for _, _, m in loaded]
    out = discover(maps, ids, meta, images, masks, k, seed, method, class_name)
    out.withheld = withheld
    out.meta = {"audit": folder.name, "model": spec.model, "dataset": spec.dataset, "split": spec.split,
                "output": spec.output, "maps": len(ids), "withheld": sum(withheld.values())}
    return out
