"""`python -m reverie.export run_dir=RUN out=FOLDER [ckpt=last|best|PATH] [overwrite=true]`: a trained run as a Hugging Face LLaVA folder.

`LlavaForConditionalGeneration.from_pretrained(FOLDER)` and `AutoProcessor.from_pretrained(FOLDER)` load it without
reverie (lmms-eval, VLMEvalKit, vLLM read it as any llava-hf checkpoint). The last line printed is the folder.
"""

from __future__ import annotations

from pathlib import Path

import hydra
from omegaconf import DictConfig

from reverie.cli import user_errors
from reverie.data.templates import get_template
from reverie.evaluate import load_run
from reverie.models.hf_export import export_hf_llava
from reverie.outputs import check_new_folder, check_not_input
from reverie.resolvers import register

register()


@hydra.main(version_base="1.3", config_path="conf", config_name="export")
@user_errors
def main(cfg: DictConfig) -> None:
    run_dir = Path(cfg.run_dir).resolve()
    check_not_input(
        "out", cfg.out, {"run_dir": run_dir, "ckpt": cfg.ckpt if cfg.ckpt not in ("last", "best") else None}
    )
    check_new_folder("out", cfg.out, cfg.overwrite)
    run_cfg, tokenizer, model = load_run(run_dir, cfg.ckpt)
    template = get_template(run_cfg.model.llm.chat_template)
    out = export_hf_llava(model.eval(), tokenizer, template, run_cfg.reflection.question_prompt, cfg.out)
    print(Path(out).resolve())


if __name__ == "__main__":
    main()
