"""The run's LVLM built on the meta device: every parameter has its shape and no storage, so a 7B model costs nothing.

The parts are built the way `reverie.build.build_lvlm` builds them, from configs instead of weights: a local LLM or
vision folder gives its `config.json`; a folder that is not on this machine yet is stood in for by a shipped config of
the same name (`reverie/plan/configs/`), and the plan says so; a Hugging Face LLaVA folder (`model=hf_llava`) gives its
tower, projector and LLM from its one `config.json`. The tiny world-pretrained tower is built random (no pretraining).
"""

from __future__ import annotations

import contextlib
import inspect
import io
from dataclasses import dataclass, field
from pathlib import Path

import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from transformers import AutoConfig, AutoModelForCausalLM

from reverie.errors import MissingFileError
from reverie.models.lvlm import LVLM
from reverie.models.projector import build_projector
from reverie.models.vision import HFVisionEncoder
from reverie.training.stages import apply_stage

STAND_INS = Path(__file__).resolve().parent / "configs"


@dataclass
class MetaModel:
    model: LVLM
    vocab_size: int
    notes: list[str] = field(default_factory=list)  # where each config came from


def config_folder(path: str | None, key: str, notes: list[str]) -> Path:
    """`path` if it holds a config.json, else the shipped stand-in of the same folder name."""
    if path and (Path(path) / "config.json").is_file():
        notes.append(f"{key}: {path}/config.json")
        return Path(path)
    name = Path(str(path)).name if path else ""
    stand_in = STAND_INS / name
    if name and (stand_in / "config.json").is_file():
        notes.append(f"{key}: {path} not here; shipped stand-in {name}/config.json (published values)")
        return stand_in
    shipped = sorted(p.name for p in STAND_INS.iterdir() if p.is_dir())
    raise MissingFileError(
        f"{key}: no config.json in {path!r} and no shipped stand-in of that name (shipped: {shipped})"
    )


def _hf_config(folder: Path):
    return AutoConfig.from_pretrained(folder, local_files_only=True)


def _tokenizer_size(path: str | None) -> int | None:
    """The size of the vocabulary reverie's tokenizer would have (with its special tokens), if the folder is here."""
    if not path or not (Path(path) / "tokenizer_config.json").is_file():
        return None
    from reverie.data.tokenizer import load_tokenizer

    return len(load_tokenizer(path))


def _vision(cfg: DictConfig, notes: list[str]) -> torch.nn.Module:
    node = cfg.model.vision_encoder
    if "encoder" in node and "_target_" in node.encoder:  # the tiny world-pretrained tower: its encoder, random
        notes.append("vision_encoder: the world-pretrained tower's encoder, random (no pretraining)")
        node = node.encoder
    target = node.get("_target_", "")
    if target.endswith("TimmVisionEncoder"):
        from reverie.models.vision import TimmVisionEncoder

        params = OmegaConf.to_container(node, resolve=True)
        params.pop("_target_")
        return TimmVisionEncoder(**{**params, "pretrained_path": None})
    if target.endswith("HFVisionEncoder"):
        kwargs = {k: node[k] for k in ("feature_layer", "use_cls", "pad_to_square") if k in node}
        if node.get("config") is not None:
            return HFVisionEncoder(config=OmegaConf.to_container(node.config, resolve=True), **kwargs)
        folder = config_folder(node.get("path"), "model.vision_encoder.path", notes)
        hf = _hf_config(folder)
        hf = getattr(hf, "vision_config", hf)
        from transformers import AutoModel

        return HFVisionEncoder(model=AutoModel.from_config(hf), **kwargs)
    return instantiate(node)


def _llm(cfg: DictConfig, notes: list[str]) -> tuple[torch.nn.Module, int]:
    build = cfg.model.llm.build
    tok = cfg.model.llm.tokenizer
    if build.get("config") is not None:
        params = OmegaConf.to_container(build.config, resolve=True)
        vocab = int(tok.vocab_size)
        hf = AutoConfig.for_model(params.pop("model_type"), vocab_size=vocab, **params)
        notes.append(f"llm: random {hf.model_type} from model.llm.build.config; vocabulary {vocab} (tokenizer size)")
    else:
        path = OmegaConf.select(cfg, "model.llm.build.pretrained_path", throw_on_missing=False)
        folder = config_folder(path, "model.llm.build.pretrained_path", notes)
        hf = _hf_config(folder)
        vocab = max(hf.vocab_size, _tokenizer_size(path) or 0)
    return AutoModelForCausalLM.from_config(hf), vocab


def _hf_llava(cfg: DictConfig, notes: list[str]) -> tuple[torch.nn.Module, torch.nn.Module, torch.nn.Module, int]:
    from transformers import AutoModel

    path = OmegaConf.select(cfg, "model.path", throw_on_missing=False)
    folder = config_folder(path, "model.path", notes)
    hf = _hf_config(folder)
    vision = HFVisionEncoder(
        model=AutoModel.from_config(hf.vision_config),
        feature_layer=hf.vision_feature_layer,
        use_cls=hf.vision_feature_select_strategy == "full",
    )
    llm = AutoModelForCausalLM.from_config(hf.text_config)
    vocab = max(hf.text_config.vocab_size, _tokenizer_size(path) or 0)
    projector = build_projector("mlp2x_gelu", vision.hidden_size, hf.text_config.hidden_size)
    return vision, projector, llm, vocab


def build_meta_model(cfg: DictConfig) -> MetaModel:
    """The run's LVLM on the meta device with the stage applied (frozen parts, LoRA adapters), each part in the dtype
    the run loads it in (`model.dtype`, `model.llm.build.dtype`; a built tower and projector in fp32; peft keeps
    LoRA adapters in fp32)."""
    notes: list[str] = []
    with torch.device("meta"):
        if OmegaConf.select(cfg, "model.path", default=None) is not None or "path" in cfg.model:
            vision, projector, llm, vocab = _hf_llava(cfg, notes)
        else:
            vision = _vision(cfg, notes)
            llm, vocab = _llm(cfg, notes)
            projector = instantiate(cfg.model.projector)(
                in_dim=vision.hidden_size, out_dim=llm.config.get_text_config().hidden_size
            )
        if llm.get_input_embeddings().num_embeddings < vocab:
            llm.resize_token_embeddings(vocab, mean_resizing=False)
        whole = OmegaConf.select(cfg, "model.dtype", default=None)  # hf_llava: every part as loaded
        llm_dtype = whole or OmegaConf.select(cfg, "model.llm.build.dtype", default=None) or "float32"
        vision, projector = (
            vision.to(getattr(torch, whole or "float32")),
            projector.to(getattr(torch, whole or "float32")),
        )
        llm = llm.to(getattr(torch, llm_dtype))
        model = LVLM(vision, projector, llm, image_token_id=0)
        stage = OmegaConf.to_container(cfg.stage, resolve=True)
        stage = {k: v for k, v in stage.items() if k in inspect.signature(apply_stage).parameters}  # what freezes
        with contextlib.redirect_stdout(io.StringIO()):  # the plan prints its own table
            apply_stage(model, **stage)
    return MetaModel(model, vocab, notes)
