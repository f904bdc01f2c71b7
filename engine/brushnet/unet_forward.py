"""Run a stock ``diffusers.UNet2DConditionModel`` with BrushNet features added to its hidden states.

BrushNet does not patch the UNet: this function walks the UNet's own submodules in the order of
``UNet2DConditionModel.forward`` and adds one BrushNet feature after ``conv_in``, after every
resnet(+attention) layer and downsampler of the down blocks, after the mid block, and after every
resnet(+attention) layer and upsampler of the up blocks. A down-block skip connection stores the
hidden state *after* the feature was added (as BrushNet was trained), except the ``conv_in`` skip,
which is taken before.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def batch_timesteps(sample: torch.Tensor, timestep) -> torch.Tensor:
    """``timestep`` (a number, a 0-d or 1-d tensor) as one timestep per item of ``sample``'s batch."""
    t = timestep
    if not torch.is_tensor(t):
        t = torch.tensor([t], dtype=torch.float64 if isinstance(t, float) else torch.int64, device=sample.device)
    elif t.ndim == 0:
        t = t[None].to(sample.device)
    return t.expand(sample.shape[0])


def _time_embedding(unet, sample: torch.Tensor, timestep) -> torch.Tensor:
    t = batch_timesteps(sample, timestep)
    # time_proj has no weights and returns float32; the embedding may run in half precision.
    emb = unet.time_embedding(unet.time_proj(t).to(dtype=sample.dtype), None)
    if getattr(unet, "time_embed_act", None) is not None:
        emb = unet.time_embed_act(emb)
    return emb


def _attend(attn, h, ehs, cross_attention_kwargs):
    return attn(h, encoder_hidden_states=ehs, cross_attention_kwargs=cross_attention_kwargs, return_dict=False)[0]


def unet_forward_with_brushnet(
    unet,
    sample: torch.Tensor,
    timestep,
    encoder_hidden_states: torch.Tensor,
    down_block_add_samples: Sequence[torch.Tensor] | None,
    mid_block_add_sample: torch.Tensor | None,
    up_block_add_samples: Sequence[torch.Tensor] | None,
    cross_attention_kwargs: dict | None = None,
) -> torch.Tensor:
    """Noise prediction of ``unet`` with BrushNet features added to the hidden states.

    Parameters
    ----------
    unet : diffusers.UNet2DConditionModel
        A stock SD1.5-style UNet (no class or addition embeddings).
    sample : torch.Tensor
        Noisy latents ``(B, C, h, w)``.
    timestep : tensor, float or int
        Diffusion timestep(s).
    encoder_hidden_states : torch.Tensor
        Text embeddings ``(B, tokens, dim)``.
    down_block_add_samples, mid_block_add_sample, up_block_add_samples
        The outputs of :class:`engine.brushnet.BrushNetModel`; ``None`` everywhere runs the plain UNet.
        The sequences are only read, never mutated.
    cross_attention_kwargs : dict, optional
        Passed to the attention processors.

    Returns
    -------
    torch.Tensor
        The UNet output ``(B, out_channels, h, w)``.
    """
    if getattr(unet, "class_embedding", None) is not None or unet.config.addition_embed_type is not None:
        raise ValueError("unet_forward_with_brushnet supports SD1.5-style UNets only")
    down_add = list(down_block_add_samples) if down_block_add_samples is not None else None
    up_add = list(up_block_add_samples) if up_block_add_samples is not None else None
    di = ui = 0

    def add_down(h):
        nonlocal di
        if down_add is None:
            return h
        h = h + down_add[di]
        di += 1
        return h

    def add_up(h):
        nonlocal ui
        if up_add is None:
            return h
        h = h + up_add[ui]
        ui += 1
        return h

    up_factor = 2 ** unet.num_upsamplers
    forward_upsample_size = any(s % up_factor != 0 for s in sample.shape[-2:])
    if unet.config.center_input_sample:
        sample = 2 * sample - 1.0
    emb = _time_embedding(unet, sample, timestep)
    ehs = encoder_hidden_states
    if getattr(unet, "encoder_hid_proj", None) is not None:
        ehs = unet.process_encoder_hidden_states(ehs, {})

    h = unet.conv_in(sample)
    skips: list[torch.Tensor] = [h]  # the conv_in skip is taken before the feature is added
    h = add_down(h)

    for block in unet.down_blocks:
        attns = getattr(block, "attentions", None) if getattr(block, "has_cross_attention", False) else None
        for j, resnet in enumerate(block.resnets):
            h = resnet(h, emb)
            if attns is not None:
                h = _attend(attns[j], h, ehs, cross_attention_kwargs)
            h = add_down(h)
            skips.append(h)
        if block.downsamplers is not None:
            for down in block.downsamplers:
                h = down(h)
            h = add_down(h)
            skips.append(h)

    if unet.mid_block is not None:
        if getattr(unet.mid_block, "has_cross_attention", False):
            h = unet.mid_block(h, emb, encoder_hidden_states=ehs, cross_attention_kwargs=cross_attention_kwargs)
        else:
            h = unet.mid_block(h, emb)
    if mid_block_add_sample is not None:
        h = h + mid_block_add_sample

    n_up = len(unet.up_blocks)
    for i, block in enumerate(unet.up_blocks):
        res = skips[-len(block.resnets):]
        skips = skips[:-len(block.resnets)]
        size = skips[-1].shape[2:] if (i < n_up - 1 and forward_upsample_size) else None
        attns = getattr(block, "attentions", None) if getattr(block, "has_cross_attention", False) else None
        for j, resnet in enumerate(block.resnets):
            h = resnet(torch.cat([h, res.pop()], dim=1), emb)
            if attns is not None:
                h = _attend(attns[j], h, ehs, cross_attention_kwargs)
            h = add_up(h)
        if block.upsamplers is not None:
            for up in block.upsamplers:
                h = up(h, size)
            h = add_up(h)

    if unet.conv_norm_out is not None:
        h = unet.conv_act(unet.conv_norm_out(h))
    return unet.conv_out(h)
