"""BrushNetModel: the trainable, attention-free UNet branch of BrushNet (arXiv 2403.06976).

The branch sees the noisy latent concatenated with the 5-channel condition (masked-image latent and
the mask, 1 = keep) and emits one zero-initialised 1x1 convolution output per hidden state of the
frozen UNet (after ``conv_in``, every down resnet/downsampler, the mid block, every up
resnet/upsampler). Parameter names and config keys equal TencentARC's published checkpoints so
``from_pretrained`` loads ``brushnetX`` and friends unchanged; the code is our own, written on
diffusers' stock blocks.
"""

from __future__ import annotations

import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.embeddings import TimestepEmbedding, Timesteps
from diffusers.models.modeling_utils import ModelMixin
from diffusers.models.unets.unet_2d_blocks import UNetMidBlock2D, get_down_block, get_up_block
from torch import nn


def _zero_conv(channels: int) -> nn.Conv2d:
    conv = nn.Conv2d(channels, channels, kernel_size=1)
    nn.init.zeros_(conv.weight)
    nn.init.zeros_(conv.bias)
    return conv


class BrushNetModel(ModelMixin, ConfigMixin):
    """BrushNet branch (SD1.5 layout) as a diffusers model.

    Parameters
    ----------
    in_channels : int
        Channels of the noisy latent (4 for SD1.5).
    conditioning_channels : int
        Channels of ``brushnet_cond``: masked-image latent (4) + mask (1).
    block_out_channels, layers_per_block, norm_num_groups, norm_eps, act_fn, ...
        As the UNet the branch was made from. Keys that only make sense for other UNet families
        (class/addition embeddings, encoder projections) are accepted so published configs load,
        but must keep their SD1.5 values.

    Notes
    -----
    ``forward`` returns ``(down_block_res_samples, mid_block_res_sample, up_block_res_samples)``
    ready for :func:`engine.brushnet.unet_forward_with_brushnet`.
    """

    _supports_gradient_checkpointing = False

    @register_to_config
    def __init__(
        self,
        in_channels: int = 4,
        conditioning_channels: int = 5,
        flip_sin_to_cos: bool = True,
        freq_shift: int = 0,
        down_block_types: tuple[str, ...] = ("DownBlock2D",) * 4,
        mid_block_type: str | None = "MidBlock2D",
        up_block_types: tuple[str, ...] = ("UpBlock2D",) * 4,
        only_cross_attention: bool | tuple[bool, ...] = False,
        block_out_channels: tuple[int, ...] = (320, 640, 1280, 1280),
        layers_per_block: int = 2,
        downsample_padding: int = 1,
        mid_block_scale_factor: float = 1,
        act_fn: str = "silu",
        norm_num_groups: int | None = 32,
        norm_eps: float = 1e-5,
        cross_attention_dim: int = 768,
        transformer_layers_per_block: int | tuple[int, ...] = 1,
        encoder_hid_dim: int | None = None,
        encoder_hid_dim_type: str | None = None,
        attention_head_dim: int | tuple[int, ...] = 8,
        num_attention_heads: int | tuple[int, ...] | None = None,
        use_linear_projection: bool = False,
        class_embed_type: str | None = None,
        addition_embed_type: str | None = None,
        addition_time_embed_dim: int | None = None,
        num_class_embeds: int | None = None,
        upcast_attention: bool = False,
        resnet_time_scale_shift: str = "default",
        projection_class_embeddings_input_dim: int | None = None,
        brushnet_conditioning_channel_order: str = "rgb",
        conditioning_embedding_out_channels: tuple[int, ...] | None = (16, 32, 96, 256),
        global_pool_conditions: bool = False,
        addition_embed_type_num_heads: int = 64,
    ) -> None:
        super().__init__()
        unsupported = {
            "encoder_hid_dim": encoder_hid_dim, "encoder_hid_dim_type": encoder_hid_dim_type,
            "class_embed_type": class_embed_type, "addition_embed_type": addition_embed_type,
            "num_class_embeds": num_class_embeds,
        }
        bad = [k for k, v in unsupported.items() if v is not None]
        if bad:
            raise ValueError(f"BrushNetModel supports SD1.5-style UNets only; unsupported config: {bad}")
        if len(down_block_types) != len(up_block_types) or len(block_out_channels) != len(down_block_types):
            raise ValueError("down_block_types, up_block_types and block_out_channels must have equal lengths")
        if any(t != "DownBlock2D" for t in down_block_types) or any(t != "UpBlock2D" for t in up_block_types):
            raise ValueError("BrushNet blocks have no attention: use DownBlock2D / UpBlock2D")
        if mid_block_type not in ("MidBlock2D", "UNetMidBlock2D"):
            raise ValueError(f"unsupported mid_block_type {mid_block_type!r}")

        n = len(block_out_channels)
        heads = num_attention_heads or attention_head_dim
        heads = (heads,) * n if isinstance(heads, int) else tuple(heads)
        time_embed_dim = block_out_channels[0] * 4

        # Input: noisy latent and condition are concatenated before one conv (9 -> C0).
        self.conv_in_condition = nn.Conv2d(in_channels + conditioning_channels, block_out_channels[0],
                                           kernel_size=3, padding=1)
        self.time_proj = Timesteps(block_out_channels[0], flip_sin_to_cos, freq_shift)
        self.time_embedding = TimestepEmbedding(block_out_channels[0], time_embed_dim, act_fn=act_fn)

        self.down_blocks = nn.ModuleList()
        self.brushnet_down_blocks = nn.ModuleList([_zero_conv(block_out_channels[0])])
        out_ch = block_out_channels[0]
        for i, block_type in enumerate(down_block_types):
            in_ch, out_ch = out_ch, block_out_channels[i]
            last = i == n - 1
            self.down_blocks.append(get_down_block(
                block_type, num_layers=layers_per_block, in_channels=in_ch, out_channels=out_ch,
                temb_channels=time_embed_dim, add_downsample=not last, resnet_eps=norm_eps,
                resnet_act_fn=act_fn, resnet_groups=norm_num_groups, downsample_padding=downsample_padding,
                resnet_time_scale_shift=resnet_time_scale_shift, num_attention_heads=heads[i],
                attention_head_dim=heads[i], cross_attention_dim=cross_attention_dim,
            ))
            for _ in range(layers_per_block + (0 if last else 1)):
                self.brushnet_down_blocks.append(_zero_conv(out_ch))

        mid_ch = block_out_channels[-1]
        # The published "MidBlock2D" is two resnets and no attention.
        self.mid_block = UNetMidBlock2D(
            in_channels=mid_ch, temb_channels=time_embed_dim, num_layers=1, resnet_eps=norm_eps,
            resnet_act_fn=act_fn, output_scale_factor=mid_block_scale_factor, resnet_groups=norm_num_groups,
            resnet_time_scale_shift=resnet_time_scale_shift, add_attention=False,
        )
        self.brushnet_mid_block = _zero_conv(mid_ch)

        self.up_blocks = nn.ModuleList()
        self.brushnet_up_blocks = nn.ModuleList()
        rev = list(reversed(block_out_channels))
        rev_heads = list(reversed(heads))
        out_ch = rev[0]
        for i, block_type in enumerate(up_block_types):
            last = i == n - 1
            prev_out, out_ch = out_ch, rev[i]
            in_ch = rev[min(i + 1, n - 1)]
            self.up_blocks.append(get_up_block(
                block_type, num_layers=layers_per_block + 1, in_channels=in_ch, out_channels=out_ch,
                prev_output_channel=prev_out, temb_channels=time_embed_dim, add_upsample=not last,
                resnet_eps=norm_eps, resnet_act_fn=act_fn, resolution_idx=i, resnet_groups=norm_num_groups,
                resnet_time_scale_shift=resnet_time_scale_shift, num_attention_heads=rev_heads[i],
                attention_head_dim=rev_heads[i], cross_attention_dim=cross_attention_dim,
            ))
            for _ in range(layers_per_block + 1 + (0 if last else 1)):
                self.brushnet_up_blocks.append(_zero_conv(out_ch))

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_unet(cls, unet, load_weights_from_unet: bool = True, conditioning_channels: int = 5) -> "BrushNetModel":
        """Build a BrushNet matching ``unet`` (a ``UNet2DConditionModel``), optionally copying its weights.

        As in the paper's initialisation, ``conv_in_condition`` sees the UNet's ``conv_in`` weights on
        both the noisy latent and the masked-image latent, zero on the mask channel; the resnets,
        time embedding and (de)samplers are copied; the zero convs start at zero.
        """
        c = unet.config
        model = cls(
            in_channels=c.in_channels, conditioning_channels=conditioning_channels,
            flip_sin_to_cos=c.flip_sin_to_cos, freq_shift=c.freq_shift,
            down_block_types=("DownBlock2D",) * len(c.down_block_types), mid_block_type="MidBlock2D",
            up_block_types=("UpBlock2D",) * len(c.up_block_types),
            only_cross_attention=c.only_cross_attention, block_out_channels=tuple(c.block_out_channels),
            layers_per_block=c.layers_per_block, downsample_padding=c.downsample_padding,
            mid_block_scale_factor=c.mid_block_scale_factor, act_fn=c.act_fn,
            norm_num_groups=c.norm_num_groups, norm_eps=c.norm_eps, cross_attention_dim=c.cross_attention_dim,
            transformer_layers_per_block=c.transformer_layers_per_block, attention_head_dim=c.attention_head_dim,
            num_attention_heads=c.num_attention_heads, use_linear_projection=c.use_linear_projection,
            upcast_attention=c.upcast_attention, resnet_time_scale_shift=c.resnet_time_scale_shift,
        )
        if load_weights_from_unet:
            with torch.no_grad():
                w = torch.zeros_like(model.conv_in_condition.weight)
                k = c.in_channels
                w[:, :k] = unet.conv_in.weight
                w[:, k:2 * k] = unet.conv_in.weight
                model.conv_in_condition.weight.copy_(w)
                model.conv_in_condition.bias.copy_(unet.conv_in.bias)
            model.time_embedding.load_state_dict(unet.time_embedding.state_dict())
            # strict=False: the UNet blocks also hold attentions, which the branch lacks.
            model.down_blocks.load_state_dict(unet.down_blocks.state_dict(), strict=False)
            model.mid_block.load_state_dict(unet.mid_block.state_dict(), strict=False)
            model.up_blocks.load_state_dict(unet.up_blocks.state_dict(), strict=False)
        if unet.device != model.device:
            model = model.to(unet.device)
        return model if unet.dtype == model.dtype else model.to(dtype=unet.dtype)

    # ------------------------------------------------------------------ forward
    def forward(
        self,
        sample: torch.Tensor,
        timestep: torch.Tensor | float | int,
        encoder_hidden_states: torch.Tensor | None,
        brushnet_cond: torch.Tensor,
        conditioning_scale: float = 1.0,
        return_dict: bool = False,
    ):
        """Run the branch.

        Parameters
        ----------
        sample : torch.Tensor
            Noisy latents ``(B, 4, h, w)``.
        timestep : tensor, float or int
            Diffusion timestep(s).
        encoder_hidden_states : torch.Tensor or None
            Text embeddings; unused by the attention-free branch, accepted for symmetry with the UNet.
        brushnet_cond : torch.Tensor
            ``(B, 5, h, w)``: masked-image latent (scaled) and the mask with **1 = keep, 0 = hole**.
        conditioning_scale : float
            Multiplies every output feature.
        return_dict : bool
            If True return a dict with the three entries, else a tuple.

        Returns
        -------
        tuple
            ``(down_block_res_samples, mid_block_res_sample, up_block_res_samples)`` (lists of tensors).
        """
        if self.config.brushnet_conditioning_channel_order == "bgr":
            brushnet_cond = torch.flip(brushnet_cond, dims=[1])
        from engine.brushnet.unet_forward import batch_timesteps

        t = batch_timesteps(sample, timestep)
        emb = self.time_embedding(self.time_proj(t).to(dtype=sample.dtype))

        h = self.conv_in_condition(torch.cat([sample, brushnet_cond.to(sample.dtype)], dim=1))
        skips: list[torch.Tensor] = [h]
        for block in self.down_blocks:
            h, res = block(hidden_states=h, temb=emb)
            skips.extend(res)
        down_feats = [conv(x) for conv, x in zip(self.brushnet_down_blocks, skips)]

        h = self.mid_block(h, emb)
        mid_feat = self.brushnet_mid_block(h)

        up_states: list[torch.Tensor] = []
        n_up = len(self.up_blocks)
        for i, block in enumerate(self.up_blocks):
            res = skips[-len(block.resnets):]
            skips = skips[:-len(block.resnets)]
            size = skips[-1].shape[2:] if i < n_up - 1 else None
            # Walk the block by hand: the branch emits a feature after every resnet and upsampler.
            for resnet in block.resnets:
                h = resnet(torch.cat([h, res.pop()], dim=1), emb)
                up_states.append(h)
            if block.upsamplers is not None:
                for up in block.upsamplers:
                    h = up(h, size)
                up_states.append(h)
        up_feats = [conv(x) for conv, x in zip(self.brushnet_up_blocks, up_states)]

        if conditioning_scale != 1.0:
            down_feats = [f * conditioning_scale for f in down_feats]
            mid_feat = mid_feat * conditioning_scale
            up_feats = [f * conditioning_scale for f in up_feats]
        if self.config.global_pool_conditions:
            down_feats = [f.mean(dim=(2, 3), keepdim=True) for f in down_feats]
            mid_feat = mid_feat.mean(dim=(2, 3), keepdim=True)
            up_feats = [f.mean(dim=(2, 3), keepdim=True) for f in up_feats]
        if return_dict:
            return {"down_block_res_samples": down_feats, "mid_block_res_sample": mid_feat,
                    "up_block_res_samples": up_feats}
        return down_feats, mid_feat, up_feats
