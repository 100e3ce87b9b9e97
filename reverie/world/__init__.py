"""The built-in world: procedural images with exactly known contents, and every data format reverie reads.

    from reverie.world import WorldConfig, build_world, load_manifest
    manifest = build_world("outputs/world", WorldConfig(num_images=600, seed=0))
    files = load_manifest("outputs/world")   # role -> absolute path, e.g. files["pope.test.adversarial"]

CLI: ``python -m reverie.world --out DIR``. See docs/world.md.
"""

from reverie.world.build import build_world, load_manifest
from reverie.world.config import WorldConfig

__all__ = ["WorldConfig", "build_world", "load_manifest"]
