"""Hand-wired CTranslate2 Transformer weights that *translate* word by word.

A random Transformer never emits `</s>`, so every sentence would decode to the length
cap and nothing could be checked by eye. Instead the weights implement a small circuit
on top of an otherwise ordinary pre-norm Transformer (`TransformerSpec`):

* the source embedding of token `s` carries a ±1 code for `mapping[s]` (the lexicon
  lookup is baked into the embedding table);
* learned position encodings carry `cos/sin(w_k * t)` features; a cross-attention head
  whose query and key read only those features attends from decoder step `t` to source
  position `t`, and copies the code it finds there;
* the output projection scores each target token by its own code, so step `t` emits
  `mapping[source[t]]`; `add_source_eos` puts `</s>` at the end of the source, so the
  output stops exactly one step after the last source token.

Every residual-stream vector has zero mean (each feature is stored together with its
negation) and a fixed norm, so every LayerNorm acts as a constant rescaling.

All other weights are zero (exact toy) or seeded Gaussian noise; the noise written
back into the residual stream is kept small so the circuit still dominates. The
compute cost of a Transformer does not depend on its weight values, so the noisy
variant benchmarks exactly like a trained model of the same shape, with realistic
output lengths.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    # ctranslate2.specs imports torch when it is installed: only pay for it when building.
    from ctranslate2.specs import TransformerSpec

# Logit of the attended source position over the runner-up, and of the correct output
# token at its peak: both large enough that softmax is effectively one-hot in float32
# and after int8 quantization.
ATTENTION_GAP = 30.0
OUTPUT_PEAK = 40.0


class _Noise(Protocol):
    def __call__(self, *dims: int, std: float) -> np.ndarray: ...


@dataclass(frozen=True)
class TransformerShape:
    """Architecture and circuit sizes of a generated model."""

    d_model: int
    num_heads: int
    ffn_dim: int
    encoder_layers: int
    decoder_layers: int
    code_dims: int  # width of a token code (the ±1 vector identifying a token)
    num_frequencies: int  # position features are cos/sin of this many frequencies
    max_positions: int
    input_noise: float = 0.0  # std of weights reading the residual stream
    output_noise: float = 0.0  # std of weights writing back into it

    @property
    def head_dim(self) -> int:
        return self.d_model // self.num_heads

    def check(self) -> None:
        """Raise ValueError if the circuit does not fit in the model."""
        if self.d_model % self.num_heads:
            raise ValueError("d_model must be divisible by num_heads")
        if 2 * self.code_dims + 4 * self.num_frequencies > self.d_model:
            raise ValueError("code and position features do not fit in d_model")
        if 2 * self.num_frequencies > self.head_dim:
            raise ValueError("position features do not fit in one attention head")
        if math.ceil(self.code_dims / self.head_dim) > self.num_heads:
            raise ValueError("token codes do not fit in the attention heads")


def token_codes(size: int, dims: int, rng: np.random.Generator) -> np.ndarray:
    """Random ±1 codes; any two differ enough for an argmax to tell them apart."""
    for _ in range(20):  # redraw the rare unlucky sets (deterministic for a given seed)
        codes = rng.choice(np.array([-1.0, 1.0], dtype=np.float32), size=(size, dims))
        gram = codes @ codes.T
        np.fill_diagonal(gram, -np.inf)
        if gram.max() <= 0.75 * dims:
            return codes
    raise ValueError(f"cannot draw {size} distinct enough codes of {dims} dims; use more code_dims")


def frequencies(count: int, max_positions: int) -> np.ndarray:
    """Geometric frequencies whose cosine sum peaks only at distance 0 (checked)."""
    omegas = np.geomspace(2.5, 0.1, count).astype(np.float64)
    distances = np.arange(1, max_positions)
    gap = count - np.cos(np.outer(distances, omegas)).sum(axis=1).max()
    if gap < 1.0:
        raise ValueError("position features cannot separate neighbouring positions")
    return omegas


def build_spec(
    vocabulary: Sequence[str],
    mapping: Mapping[str, str],
    shape: TransformerShape,
    seed: int,
) -> TransformerSpec:
    """A validated `TransformerSpec` whose greedy output is `mapping` applied per token."""
    from ctranslate2.specs import TransformerSpec

    shape.check()
    rng = np.random.default_rng(seed)
    d, m, k = shape.d_model, shape.code_dims, shape.num_frequencies
    index = {token: i for i, token in enumerate(vocabulary)}
    codes = token_codes(len(vocabulary), m, rng)
    omegas = frequencies(k, shape.max_positions)

    # Residual-stream layout: [code | -code | position | -position | free].
    code_dims = slice(0, m)
    code_mirror = slice(m, 2 * m)
    pos_dims = slice(2 * m, 2 * m + 2 * k)
    pos_mirror = slice(2 * m + 2 * k, 2 * m + 4 * k)

    def noise(*dims: int, std: float) -> np.ndarray:
        if std == 0.0:
            return np.zeros(dims, dtype=np.float32)
        return rng.normal(0.0, std, size=dims).astype(np.float32)

    positions = np.arange(shape.max_positions)[:, None] * omegas[None, :]
    features = np.concatenate([np.cos(positions), np.sin(positions)], axis=1)
    position_table = np.zeros((shape.max_positions, d), dtype=np.float32)
    position_table[:, pos_dims] = features
    position_table[:, pos_mirror] = -features

    mapped = np.array([index.get(mapping.get(tok, tok), i) for i, tok in enumerate(vocabulary)])
    source_embeddings = noise(len(vocabulary), d, std=shape.input_noise)
    source_embeddings[:, code_dims] += codes[mapped]
    source_embeddings[:, code_mirror] -= codes[mapped]
    target_embeddings = noise(len(vocabulary), d, std=shape.input_noise)

    # Norms every LayerNorm sees (features are ±1 per dimension, mean 0).
    encoder_norm = math.sqrt(2 * m + 2 * k)
    decoder_norm = math.sqrt(2 * k)
    hd = shape.head_dim
    # Query and key carry the (cos, sin) features of their positions; their product,
    # after CTranslate2's 1/sqrt(head_dim) scaling, gives ATTENTION_GAP per unit gap.
    gap = k - np.cos(np.outer(np.arange(1, shape.max_positions), omegas)).sum(axis=1).max()
    qk_scale = math.sqrt(ATTENTION_GAP / gap * math.sqrt(hd))
    query_scale = qk_scale * decoder_norm / math.sqrt(d)
    key_scale = qk_scale * encoder_norm / math.sqrt(d)
    value_scale = encoder_norm / math.sqrt(d)  # copies the code at amplitude 1

    spec = TransformerSpec.from_config((shape.encoder_layers, shape.decoder_layers), shape.num_heads)
    spec.config.add_source_eos = True
    for stack, embeddings in (
        (spec.encoder, source_embeddings),
        (spec.decoder, target_embeddings),
    ):
        # CTranslate2 multiplies embeddings by sqrt(d_model) (scale_embeddings).
        table = embeddings / math.sqrt(d)
        if stack is spec.encoder:
            spec.encoder.embeddings[0].weight = table
        else:
            spec.decoder.embeddings.weight = table
        stack.position_encodings.encodings = position_table
        _layer_norm(stack.layer_norm, d)

    in_std, out_std = shape.input_noise, shape.output_noise
    for layer in spec.encoder.layer:
        _self_attention(layer.self_attention, d, noise, in_std, out_std)
        _ffn(layer.ffn, d, shape.ffn_dim, noise, in_std, out_std)
    for number, layer in enumerate(spec.decoder.layer):
        _self_attention(layer.self_attention, d, noise, in_std, out_std)
        _ffn(layer.ffn, d, shape.ffn_dim, noise, in_std, out_std)
        attention = layer.attention
        _layer_norm(attention.layer_norm, d)
        query = noise(d, d, std=in_std)
        key_value = noise(2 * d, d, std=in_std)
        output = noise(d, d, std=out_std)
        # The circuit lives in the last decoder layer: CTranslate2 reads its first
        # head for alignments, so replace_unknowns copies the right source token.
        if number == shape.decoder_layers - 1:
            pos_in = np.arange(pos_dims.start, pos_dims.stop)
            for head in range(math.ceil(m / hd)):
                base = head * hd
                rows = base + np.arange(2 * k)
                query[rows, pos_in] += query_scale
                key_value[rows, pos_in] += key_scale
                width = min(hd, m - base)
                value_rows = d + base + np.arange(width)
                code_in = base + np.arange(width)
                key_value[value_rows, code_in] += value_scale
                output[code_in, base + np.arange(width)] += 1.0
                output[m + code_in, base + np.arange(width)] -= 1.0
        attention.linear[0].weight = query
        attention.linear[0].bias = np.zeros(d, dtype=np.float32)
        attention.linear[1].weight = key_value
        attention.linear[1].bias = np.zeros(2 * d, dtype=np.float32)
        attention.linear[2].weight = output
        attention.linear[2].bias = np.zeros(d, dtype=np.float32)

    # After the final LayerNorm the code dims hold code * sqrt(d) / |residual|.
    final_norm = math.sqrt(2 * m + 2 * k)
    projection = noise(len(vocabulary), d, std=in_std)
    projection[:, code_dims] += codes * (OUTPUT_PEAK / m) * final_norm / math.sqrt(d)
    spec.decoder.projection.weight = projection
    spec.decoder.projection.bias = np.zeros(len(vocabulary), dtype=np.float32)

    spec.register_source_vocabulary(list(vocabulary))
    spec.register_target_vocabulary(list(vocabulary))
    spec.validate()
    return spec


def _layer_norm(norm: object, d: int) -> None:
    norm.gamma = np.ones(d, dtype=np.float32)  # type: ignore[attr-defined]
    norm.beta = np.zeros(d, dtype=np.float32)  # type: ignore[attr-defined]


def _self_attention(attention: object, d: int, noise: _Noise, in_std: float, out_std: float) -> None:
    _layer_norm(attention.layer_norm, d)  # type: ignore[attr-defined]
    fused, out = attention.linear  # type: ignore[attr-defined]
    fused.weight = noise(3 * d, d, std=in_std)
    fused.bias = np.zeros(3 * d, dtype=np.float32)
    out.weight = noise(d, d, std=out_std)
    out.bias = np.zeros(d, dtype=np.float32)


def _ffn(ffn: object, d: int, hidden: int, noise: _Noise, in_std: float, out_std: float) -> None:
    _layer_norm(ffn.layer_norm, d)  # type: ignore[attr-defined]
    ffn.linear_0.weight = noise(hidden, d, std=in_std)  # type: ignore[attr-defined]
    ffn.linear_0.bias = np.zeros(hidden, dtype=np.float32)  # type: ignore[attr-defined]
    ffn.linear_1.weight = noise(d, hidden, std=out_std)  # type: ignore[attr-defined]
    ffn.linear_1.bias = np.zeros(d, dtype=np.float32)  # type: ignore[attr-defined]
