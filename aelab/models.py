"""The autoencoder family behind one interface.

Every model maps images x: (B, C, H, W) in [0, 1] to codes z: (B, d) and back:

- ``encode(x) -> z``: the code (for a VAE, the posterior mean);
- ``decode(z) -> x̂``: an image batch in [0, 1] (a sigmoid output);
- ``loss(x, generator=None) -> dict[str, Tensor]``: named scalar terms, batch means; ``"loss"`` is what the
  trainer minimises and ``"mse"`` is the mean squared reconstruction error per pixel, reported by every kind
  so that kinds can be compared.

Kinds: ``ae`` (MLP), ``conv`` (convolutional), ``vae`` (variational, MLP, β-weighted KL), ``dae``
(denoising MLP: trained on inputs with Gaussian noise, reconstructs the clean image), ``umap-ae`` (MLP whose
codes keep UMAP's neighbour structure), ``cvae`` (a VAE whose encoder and decoder are also told the label,
one-hot, so that the code is free to hold the style).

A *conditional* kind (``conditional = True``) takes the labels wherever it takes images or codes:
``encode(x, labels)``, ``decode(z, labels)``, ``loss(x, generator, labels)``, with labels (B,) integers in
``[0, config.classes)``. Every other kind accepts ``labels`` and ignores it, so callers pass what they have.
A :class:`ModelConfig` rebuilds any of them; :func:`build_model` is the only constructor callers need.

This module is the one owner of the kinds. Each class carries what the rest of aelab asks about its kind
(its name and title, whether it has a prior, the settings it exposes with their ranges, whether it has a
slow preparation step, what its browser encoder and decoder run), and :data:`MODEL_CLASSES` is the one
registry; :func:`kinds`, the CLI's choices, the Train page, checkpoints and the browser export all derive from
it. Adding a kind is a class here and a :func:`register_model` call; nothing else compares kind names.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar, cast

import torch
import torch.nn.functional as F
from torch import nn

from aelab.errors import UnknownName

Augment = Callable[[torch.Tensor, "torch.Generator | None"], torch.Tensor]


@dataclass(frozen=True)
class Setting:
    """A number a kind lets the user choose: a :class:`ModelConfig` field, its range and how to pick it.

    The default is the ModelConfig field's own default, so it is written once. ``choices``, when given, are
    the stops of a select slider (for a scale that is not linear); otherwise a slider from ``low`` to
    ``high`` by ``step`` (whole numbers when ``integer``). ``on_page``: shown on the Train page (every
    setting is a CLI flag). ``title`` and ``help`` are the English words; the UI looks up ``train.<name>``
    and ``train.<name>_help`` for other languages.
    """

    name: str
    title: str
    low: float
    high: float
    step: float = 0.1
    choices: tuple[float, ...] = ()
    integer: bool = False
    on_page: bool = True
    help: str = ""

    @property
    def default(self) -> Any:
        return next(f.default for f in fields(ModelConfig) if f.name == self.name)

    @property
    def flag(self) -> str:
        """The CLI option: ``--umap-weight`` for ``umap_weight``."""
        return "--" + self.name.replace("_", "-")


@dataclass
class ModelConfig:
    """Everything needed to rebuild a model's modules (weights come from a checkpoint or training).

    image_shape: (C, H, W). hidden: MLP layer widths from the image side towards the code.
    channels: conv feature maps per stride-2 stage. beta: KL weight (vae). noise: std of the Gaussian noise
    added to inputs during training (dae). umap_weight, n_neighbors, min_dist: the UMAP structure term's
    weight and its graph and curve parameters (umap-ae). classes: how many labels a conditional kind is
    told (cvae; 0 for the others). seed: initialises the weights.
    """

    kind: str = "ae"
    image_shape: tuple[int, int, int] = (1, 28, 28)
    latent_dim: int = 2
    hidden: tuple[int, ...] = (512, 256)
    channels: tuple[int, ...] = (32, 64)
    beta: float = 1.0
    noise: float = 0.3
    umap_weight: float = 10.0  # the structure term's value is ~20× the MSE's (BENCHMARKS.md, issue 5)
    n_neighbors: int = 15
    min_dist: float = 0.1
    classes: int = 0
    seed: int = 0

    def __post_init__(self) -> None:
        self.image_shape = tuple(int(s) for s in self.image_shape)  # type: ignore[assignment]
        self.hidden = tuple(int(s) for s in self.hidden)
        self.channels = tuple(int(s) for s in self.channels)

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict) -> ModelConfig:
        """Rebuild from :meth:`to_dict` output; unknown or missing keys raise ValueError."""
        names = {f.name for f in fields(cls)}
        unknown = set(values) - names
        if unknown:
            raise ValueError(f"unknown model config fields: {', '.join(sorted(unknown))}")
        missing = {"kind", "image_shape", "latent_dim"} - set(values)
        if missing:
            raise ValueError(f"model config lacks: {', '.join(sorted(missing))}")
        return cls(**values)

    def validate(self) -> None:
        """Raise ValueError for a config that is unknown or absurd (checked before allocating anything)."""
        conditional = model_class(self.kind).conditional  # raises UnknownName for a kind nobody registered
        if conditional and not 2 <= self.classes <= 1000:
            raise ValueError(
                f"a {self.kind} model is told each image's label: it needs data with 2 to 1000 classes, "
                f"not {self.classes}"
            )
        if not conditional and self.classes:
            raise ValueError(f"a {self.kind} model is not told labels; classes must be 0, got {self.classes}")
        c, h, w = self.image_shape
        if c not in (1, 3) or not (2 <= h <= 256 and 2 <= w <= 256):
            raise ValueError(f"image_shape must be (1 or 3, 2..256, 2..256); got {self.image_shape}")
        if not 1 <= self.latent_dim <= 64:
            raise ValueError(f"latent_dim must be between 1 and 64; got {self.latent_dim}")
        if not self.hidden or any(not 1 <= n <= 4096 for n in self.hidden):
            raise ValueError(f"hidden widths must be 1..4096; got {self.hidden}")
        if not self.channels or len(self.channels) > 5 or any(not 1 <= n <= 512 for n in self.channels):
            raise ValueError(f"channels must be 1 to 5 widths of 1..512; got {self.channels}")
        if not (math.isfinite(self.beta) and 0 <= self.beta <= 1000):
            raise ValueError(f"beta must be between 0 and 1000; got {self.beta}")
        if not (math.isfinite(self.noise) and 0 <= self.noise <= 5):
            raise ValueError(f"noise must be between 0 and 5; got {self.noise}")
        if not (math.isfinite(self.umap_weight) and 0 <= self.umap_weight <= 100):
            raise ValueError(f"umap_weight must be between 0 and 100; got {self.umap_weight}")
        if not 2 <= self.n_neighbors <= 200:
            raise ValueError(f"n_neighbors must be between 2 and 200; got {self.n_neighbors}")
        if not (math.isfinite(self.min_dist) and 0 <= self.min_dist <= 1):
            raise ValueError(f"min_dist must be between 0 and 1; got {self.min_dist}")


# --- blocks -------------------------------------------------------------------------------------------


def mlp(widths: list[int]) -> nn.Sequential:
    """Linear layers between consecutive widths with ReLU between them (none after the last)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(itertools.pairwise(widths)):
        layers.append(nn.Linear(a, b))
        if i < len(widths) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class MLPDecoder(nn.Module):
    """z: (B, d) -> images (B, C, H, W) in [0, 1] through the reversed hidden widths.

    A conditional kind's decoder takes (B, d + classes): the code, then the label one-hot.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.image_shape = config.image_shape
        self.net = mlp([config.latent_dim + config.classes, *reversed(config.hidden), math.prod(config.image_shape)])

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.net(z)).view(-1, *self.image_shape)

    def browser_plan(self) -> list[Any]:
        # The view to (C, H, W) keeps the flat order, so only the shape changes.
        return [self.net, {"op": "sigmoid"}, {"op": "reshape", "shape": list(self.image_shape)}]


def _conv_sizes(side: int, stages: int) -> list[int]:
    """Feature-map side after each stride-2, padding-1, 3×3 convolution: ceil(side / 2) per stage."""
    sizes = [side]
    for _ in range(stages):
        sizes.append((sizes[-1] + 1) // 2)
    return sizes


class ConvEncoder(nn.Module):
    """(B, C, H, W) -> (B, out): stride-2 3×3 convolutions, then an MLP head."""

    def __init__(self, config: ModelConfig, out: int) -> None:
        super().__init__()
        c, h, w = config.image_shape
        layers: list[nn.Module] = []
        for a, b in zip((c, *config.channels[:-1]), config.channels):
            layers += [nn.Conv2d(a, b, 3, stride=2, padding=1), nn.ReLU()]
        self.features = nn.Sequential(*layers, nn.Flatten())
        fh, fw = _conv_sizes(h, len(config.channels))[-1], _conv_sizes(w, len(config.channels))[-1]
        self.head = mlp([config.channels[-1] * fh * fw, config.hidden[-1], out])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class ConvDecoder(nn.Module):
    """(B, d) -> (B, C, H, W) in [0, 1]: an MLP to a small feature map, then stride-2 transposed convolutions.

    Each transposed convolution doubles the side; the result is cropped to (H, W) for sides that are not
    a multiple of 2**stages.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        c, h, w = config.image_shape
        stages = len(config.channels)
        self.fh, self.fw = _conv_sizes(h, stages)[-1], _conv_sizes(w, stages)[-1]
        self.image_shape = config.image_shape
        widths = list(reversed(config.channels))
        self.head = nn.Sequential(mlp([config.latent_dim, config.hidden[-1], widths[0] * self.fh * self.fw]), nn.ReLU())
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(widths, (*widths[1:], c))):
            layers.append(nn.ConvTranspose2d(a, b, 4, stride=2, padding=1))
            if i < stages - 1:
                layers.append(nn.ReLU())
        self.upsample = nn.Sequential(*layers)
        self.channels0 = widths[0]

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        _c, h, w = self.image_shape
        x = self.head(z).view(-1, self.channels0, self.fh, self.fw)
        return torch.sigmoid(self.upsample(x)[:, :, :h, :w])

    def browser_plan(self) -> list[Any]:
        return [
            self.head,
            {"op": "reshape", "shape": [self.channels0, self.fh, self.fw]},
            self.upsample,
            {"op": "crop", "shape": list(self.image_shape)},
            {"op": "sigmoid"},
        ]


# --- models -------------------------------------------------------------------------------------------


class Autoencoder(nn.Module):
    """Plain autoencoder with MLP encoder φ and decoder ψ; loss = ‖x − ψ(φ(x))‖² per pixel.

    The class attributes describe the kind to the rest of aelab; a subclass sets those that differ.
    """

    kind: ClassVar[str] = "ae"
    title: ClassVar[str] = "Autoencoder (MLP)"
    has_prior: ClassVar[bool] = False  # a prior to sample new codes from (else a density fitted to the codes)
    denoises: ClassVar[bool] = False  # trained to map a noisy input back to its clean image
    slow_prepare: ClassVar[bool] = False  # `prepare` takes long enough that the UI should say so
    conditional: ClassVar[bool] = False  # encoder and decoder are told the label (config.classes of them)
    settings: ClassVar[tuple[Setting, ...]] = ()

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = self.build_encoder(config)
        self.decoder = self.build_decoder(config)

    def build_encoder(self, config: ModelConfig) -> nn.Module:
        return nn.Sequential(nn.Flatten(), mlp([math.prod(config.image_shape), *config.hidden, config.latent_dim]))

    def build_decoder(self, config: ModelConfig) -> nn.Module:
        return MLPDecoder(config)

    def encode(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """x: (B, C, H, W) -> z: (B, d). ``labels`` (B,): told to a conditional kind, ignored by the rest."""
        return self.encoder(x)

    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """z: (B, d) -> x̂: (B, C, H, W) in [0, 1]. ``labels`` (B,) as for :meth:`encode`."""
        return self.decoder(z)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.decode(self.encode(x, labels), labels)

    def encoder_plan(self) -> list[Any]:
        """What the browser's encoder runs, image to code: modules to convert and written-out operations."""
        return [self.encoder]

    def decoder_plan(self) -> list[Any]:
        """What the browser's decoder runs, code to image (``self.decoder`` describes itself)."""
        return cast(Any, self.decoder).browser_plan()

    def prepare(self, train_images: torch.Tensor, augment: Augment | None = None) -> None:
        """Learn what the loss needs from the whole training set before training (most kinds: nothing).

        ``augment(images, generator)``, when given, is the trainer's augmentation of training batches, for
        losses that draw training images of their own.
        """

    def release(self) -> None:
        """Drop what ``prepare`` kept once training ends (it is not part of the model's weights)."""

    def loss(
        self, x: torch.Tensor, generator: torch.Generator | None = None, labels: torch.Tensor | None = None
    ) -> dict[str, torch.Tensor]:
        mse = F.mse_loss(self(x), x)
        return {"loss": mse, "mse": mse}


class ConvAutoencoder(Autoencoder):
    """Autoencoder with convolutional encoder and transposed-convolution decoder."""

    kind = "conv"
    title = "Convolutional autoencoder"

    def build_encoder(self, config: ModelConfig) -> nn.Module:
        return ConvEncoder(config, config.latent_dim)

    def build_decoder(self, config: ModelConfig) -> nn.Module:
        return ConvDecoder(config)


class VariationalAutoencoder(Autoencoder):
    """VAE: q(z|x) = N(μ(x), σ²(x)), prior N(0, I), Bernoulli likelihood.

    loss = recon + β·kl per image, where recon is the binary cross-entropy summed over pixels and kl is
    KL(q(z|x) ‖ N(0, I)); both are reported. ``encode`` returns μ, so the plane shows posterior means.
    """

    kind = "vae"
    title = "Variational autoencoder"
    has_prior = True
    settings = (Setting("beta", "β (weight of the KL term)", 0.0, 4.0, 0.1),)

    def build_encoder(self, config: ModelConfig) -> nn.Module:
        # one head gives μ and log σ² side by side
        return nn.Sequential(nn.Flatten(), mlp([math.prod(config.image_shape), *config.hidden, 2 * config.latent_dim]))

    def posterior(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(μ, log σ²), each (B, d)."""
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar.clamp(-30.0, 20.0)

    def encode(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.posterior(x, labels)[0]

    def logits(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """The decoder's output before its sigmoid, flat (B, C·H·W): the BCE is computed stably from it."""
        return cast(nn.Module, self.decoder.net)(z)

    def encoder_plan(self) -> list[Any]:
        # The head gives μ and log σ² side by side; the browser keeps μ, which is what `encode` returns.
        return [self.encoder, {"op": "take", "count": self.config.latent_dim}]

    def loss(
        self, x: torch.Tensor, generator: torch.Generator | None = None, labels: torch.Tensor | None = None
    ) -> dict[str, torch.Tensor]:
        mu, logvar = self.posterior(x, labels)
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        z = mu + eps * torch.exp(0.5 * logvar)
        logits = self.logits(z, labels)
        x_flat = x.flatten(1)
        recon = F.binary_cross_entropy_with_logits(logits, x_flat, reduction="sum") / x.shape[0]
        kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / x.shape[0]
        with torch.no_grad():
            mse = F.mse_loss(torch.sigmoid(logits), x_flat)
        return {"loss": recon + self.config.beta * kl, "recon": recon, "kl": kl, "mse": mse}


def corrupt(x: torch.Tensor, noise: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """x plus Gaussian noise of standard deviation ``noise``, clipped back to [0, 1]."""
    eps = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return (x + noise * eps).clamp(0.0, 1.0)


class DenoisingAutoencoder(Autoencoder):
    """MLP autoencoder trained to map a noisy input back to its clean image.

    In training mode the input is corrupted (:func:`corrupt` with ``config.noise``) and the target is the
    clean image; in eval mode the loss is the plain reconstruction error, comparable with other kinds.
    """

    kind = "dae"
    title = "Denoising autoencoder"
    denoises = True
    settings = (Setting("noise", "Input noise (standard deviation)", 0.0, 1.0, 0.05),)

    def loss(
        self, x: torch.Tensor, generator: torch.Generator | None = None, labels: torch.Tensor | None = None
    ) -> dict[str, torch.Tensor]:
        source = corrupt(x, self.config.noise, generator) if self.training else x
        mse = F.mse_loss(self(source), x)
        return {"loss": mse, "mse": mse}


class UMAPAutoencoder(Autoencoder):
    """An MLP autoencoder whose codes also keep UMAP's neighbour structure (parametric UMAP with a decoder).

    ``prepare`` builds UMAP's fuzzy neighbour graph of the training images (umap-learn's
    fuzzy_simplicial_set) and its curve q(d) = 1 / (1 + a·d^(2b)) for ``min_dist``. Each training step adds
    to the reconstruction error ``umap_weight`` times UMAP's cross-entropy on the graph restricted to a random
    subset of the training images: graph neighbours in the subset are pulled together (−log q, weighted by
    the edge's membership strength) and random pairs from the subset pushed apart (−log(1 − q)). After
    training, the encoder alone maps new data: nothing is refitted for test images, and the graph is not part
    of the checkpoint.
    """

    kind = "umap-ae"
    title = "UMAP-structured autoencoder"
    slow_prepare = True
    settings = (
        Setting(
            "umap_weight",
            "Weight of the UMAP structure term",
            0.0,
            100.0,
            choices=(0.0, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0),
        ),
        Setting("n_neighbors", "UMAP graph neighbours", 2, 200, 1, integer=True, on_page=False),
        Setting("min_dist", "UMAP minimum distance", 0.0, 1.0, 0.05, on_page=False),
    )
    structure_nodes = 1024  # training images encoded per step for the structure term
    negatives = 5  # random pairs pushed apart per graph edge in the subset
    warm_start_steps = 500  # steps fitting the encoder to the graph's spectral layout before training

    def prepare(self, train_images: torch.Tensor, augment: Augment | None = None) -> None:
        import numpy as np
        from umap.umap_ import find_ab_params, fuzzy_simplicial_set  # deferred: imports numba

        flat = train_images.flatten(1).cpu().numpy()
        graph, _, _ = fuzzy_simplicial_set(
            flat, self.config.n_neighbors, np.random.RandomState(self.config.seed), "euclidean"
        )
        graph = graph.tocoo()
        device = train_images.device
        self._train_images = train_images
        self._augment = augment
        self._heads = torch.as_tensor(graph.row, dtype=torch.long, device=device)
        self._tails = torch.as_tensor(graph.col, dtype=torch.long, device=device)
        self._edge_weights = torch.as_tensor(graph.data, dtype=torch.float32, device=device)
        self._a, self._b = (float(v) for v in find_ab_params(1.0, self.config.min_dist))
        if self.warm_start_steps:
            self._warm_start(flat, graph.tocsr())

    def _warm_start(self, flat, graph) -> None:
        """Start the encoder from UMAP's own initial layout, the graph's spectral embedding.

        UMAP starts its optimisation there because the negative-sampling objective keeps the large-scale
        arrangement it starts from; an encoder starting from random weights settled into markedly different
        layouts from seed to seed. A short regression of the codes onto the layout (scaled as UMAP scales it)
        gives the encoder the same start.
        """
        import numpy as np
        from umap.spectral import spectral_layout

        layout = spectral_layout(flat, graph, 2, np.random.RandomState(self.config.seed))
        layout = layout - layout.mean(0)
        layout = torch.as_tensor(
            10.0 * layout / np.abs(layout).max(), dtype=torch.float32, device=self._train_images.device
        )
        generator = torch.Generator(device=self._train_images.device).manual_seed(self.config.seed)
        optimiser = torch.optim.Adam(self.encoder.parameters(), lr=1e-3)
        n = len(self._train_images)
        for _ in range(self.warm_start_steps):
            index = torch.randint(0, n, (256,), generator=generator, device=layout.device)
            images = self._train_images[index]
            if self._augment is not None:
                images = self._augment(images, generator)
            loss = F.mse_loss(self.encode(images), layout[index])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()

    def release(self) -> None:
        for name in ("_train_images", "_augment", "_heads", "_tails", "_edge_weights"):
            self.__dict__.pop(name, None)

    def structure_loss(self, generator: torch.Generator | None = None) -> torch.Tensor:
        """UMAP's cross-entropy between the graph and the codes of a random subset of the training images.

        Every graph edge between two images of the subset counts, weighted by its strength: with 1,024 of
        MNIST-5k's 4,000 training images that is about 5,000 edges for the price of encoding 1,024 images.
        (Sampling 512 edges and encoding both ends costs the same and gives a tenth of the edges; the plane
        separated the classes markedly worse for it: BENCHMARKS.md, issue 5.) The subset's images are shifted
        when training augments, so the encoder also learns that a shifted neighbour is still a neighbour.
        """
        n = len(self._train_images)
        device = self._train_images.device
        nodes = torch.randperm(n, generator=generator, device=device)[: self.structure_nodes]
        position = torch.full((n,), -1, dtype=torch.long, device=device)
        position[nodes] = torch.arange(len(nodes), device=device)
        rows, cols = position[self._heads], position[self._tails]
        inside = (rows >= 0) & (cols >= 0)
        rows, cols, weights = rows[inside], cols[inside], self._edge_weights[inside]
        images = self._train_images[nodes]
        if self._augment is not None:
            images = self._augment(images, generator)
        codes = self.encode(images)
        eps = 1e-4
        near = self._q((codes[rows] - codes[cols]).pow(2).sum(1))
        attraction = -(weights * torch.log(near + eps)).sum() / weights.sum().clamp_min(eps)
        # Random pairs of distinct subset members: UMAP's negative samples, `negatives` per edge.
        pairs = max(len(rows), len(nodes)) * self.negatives
        first = torch.randint(0, len(nodes), (pairs,), generator=generator, device=device)
        offset = torch.randint(1, max(len(nodes), 2), (pairs,), generator=generator, device=device)
        second = (first + offset) % len(nodes)
        far = self._q((codes[first] - codes[second]).pow(2).sum(1))
        return attraction - self.negatives * torch.log(1 - far + eps).mean()

    def _q(self, squared_distance: torch.Tensor) -> torch.Tensor:
        return 1.0 / (1.0 + self._a * squared_distance.clamp_min(1e-12).pow(self._b))

    def loss(
        self, x: torch.Tensor, generator: torch.Generator | None = None, labels: torch.Tensor | None = None
    ) -> dict[str, torch.Tensor]:
        mse = F.mse_loss(self(x), x)
        if not self.training or not hasattr(self, "_heads"):
            return {"loss": mse, "mse": mse}
        structure = self.structure_loss(generator)
        return {"loss": mse + self.config.umap_weight * structure, "mse": mse, "umap": structure}


class ConditionalVAE(VariationalAutoencoder):
    """A VAE told the label: q(z|x, y) and p(x|z, y), with y one-hot beside the image and beside the code.

    The decoder knows the class, so a 2-D code no longer has to hold it and holds the style (slant, width,
    thickness) instead: one code decoded under every label draws every digit in that style (Kingma et al.,
    2014, semi-supervised learning with deep generative models). Loss as the VAE's.
    """

    kind = "cvae"
    title = "Conditional VAE (told the label)"
    conditional = True

    def build_encoder(self, config: ModelConfig) -> nn.Module:
        return mlp([math.prod(config.image_shape) + config.classes, *config.hidden, 2 * config.latent_dim])

    def one_hot(self, labels: torch.Tensor | None, n: int, device: torch.device) -> torch.Tensor:
        """Labels (n,) -> (n, classes) float; ValueError when they are missing or outside the classes."""
        if labels is None:
            raise ValueError(f"a {self.kind} model needs the labels of what it encodes or decodes")
        labels = torch.as_tensor(labels, device=device).long().reshape(-1)
        classes = self.config.classes
        if len(labels) != n:
            raise ValueError(f"expected {n} labels, one per image or code; got {len(labels)}")
        outside = labels[(labels < 0) | (labels >= classes)]
        if len(outside):
            raise ValueError(f"label {int(outside[0])} is outside this model's classes 0..{classes - 1}")
        return F.one_hot(labels, classes).float()

    def posterior(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        inputs = torch.cat([x.flatten(1), self.one_hot(labels, len(x), x.device)], dim=1)
        mu, logvar = self.encoder(inputs).chunk(2, dim=1)
        return mu, logvar.clamp(-30.0, 20.0)

    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.decoder(torch.cat([z, self.one_hot(labels, len(z), z.device)], dim=1))

    def logits(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return cast(nn.Module, self.decoder.net)(torch.cat([z, self.one_hot(labels, len(z), z.device)], dim=1))

    def encoder_plan(self) -> list[Any]:
        # The browser appends the label one-hot to the flat image, as `posterior` does, and keeps μ.
        condition = {"op": "condition", "classes": self.config.classes}
        return [{"op": "flatten"}, condition, self.encoder, {"op": "take", "count": self.config.latent_dim}]


# The one registry of kinds: kind name -> class. Everything else derives from it.
MODEL_CLASSES: dict[str, type[Autoencoder]] = {}


def register_model(cls: type[Autoencoder]) -> type[Autoencoder]:
    """Add ``cls`` as the model kind ``cls.kind`` (usable as a class decorator).

    From then on the kind is in :func:`kinds`, so the CLI offers it, the Train page lists it with its
    settings, and checkpoints of it save and load; nothing else needs to change.
    """
    if not cls.kind or not isinstance(cls.kind, str):
        raise ValueError("a model kind needs a name (the class's `kind`)")
    known = {f.name for f in fields(ModelConfig)}
    unknown = [s.name for s in cls.settings if s.name not in known]
    if unknown:
        raise ValueError(f"settings of {cls.kind} must be ModelConfig fields; not: {', '.join(unknown)}")
    MODEL_CLASSES[cls.kind] = cls
    return cls


for _cls in (
    Autoencoder,
    ConvAutoencoder,
    VariationalAutoencoder,
    DenoisingAutoencoder,
    UMAPAutoencoder,
    ConditionalVAE,
):
    register_model(_cls)


def kinds() -> tuple[str, ...]:
    """The registered kind names, in registration order."""
    return tuple(MODEL_CLASSES)


def model_class(kind: str) -> type[Autoencoder]:
    """The class of a registered kind; UnknownName (with the choices) for any other name."""
    try:
        return MODEL_CLASSES[kind]
    except KeyError:
        raise UnknownName(f"unknown model kind {kind!r}; choose one of: {', '.join(MODEL_CLASSES)}") from None


def all_settings() -> dict[str, Setting]:
    """Every registered kind's settings by name (the CLI offers each once, whichever kinds share it)."""
    return {s.name: s for cls in MODEL_CLASSES.values() for s in cls.settings}


def build_model(config: ModelConfig) -> Autoencoder:
    """A fresh model for ``config``, its weights initialised from ``config.seed`` (same seed, same weights).

    The global RNG is left as it was, so building a model in one thread never disturbs another.
    """
    config.validate()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model = model_class(config.kind)(config)
    return model.eval()


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
