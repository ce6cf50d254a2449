"""Uses the ComfyUI stand-ins: folder_paths, ProgressBar, interrupts, PromptServer routes and messages."""

import json
import os

import comfy.model_management
import folder_paths
from comfy.utils import ProgressBar

from server import PromptServer

folder_paths.add_model_folder_path("compat_things", os.path.join(folder_paths.models_dir, "compat_things"))


@PromptServer.instance.routes.get("/compat_pack/hello")
async def hello(request):
    from aiohttp import web

    return web.json_response({"hello": "from compat_pack"})


class PickCheckpoint:
    """A loader-style node: its combo lists the checkpoint files present right now."""

    CATEGORY = "testing/compat"
    RETURN_TYPES = ("STRING",)
    FUNCTION = "pick"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"ckpt_name": (folder_paths.get_filename_list("checkpoints"),)}}

    def pick(self, ckpt_name):
        return (folder_paths.get_full_path_or_raise("checkpoints", ckpt_name),)


class Folders:
    CATEGORY = "testing/compat"
    RETURN_TYPES = ("STRING",)
    FUNCTION = "folders"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"name": ("STRING", {"default": "x.png [output]"})}}

    def folders(self, name):
        report = {
            "input": folder_paths.get_input_directory(),
            "output": folder_paths.get_output_directory(),
            "temp": folder_paths.get_temp_directory(),
            "models_dir": folder_paths.models_dir,
            "checkpoint_folders": folder_paths.get_folder_paths("checkpoints"),
            "things": folder_paths.get_filename_list("compat_things"),
            "annotated": folder_paths.get_annotated_filepath(name),
            "missing": folder_paths.get_full_path("checkpoints", "nope.safetensors"),
            "device": str(comfy.model_management.get_torch_device()),
        }
        return (json.dumps(report),)


class Steps:
    """Reports progress; stops itself through model_management after ``stop_after`` steps (0: never)."""

    CATEGORY = "testing/compat"
    RETURN_TYPES = ("INT",)
    FUNCTION = "steps"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"steps": ("INT", {"default": 3}), "stop_after": ("INT", {"default": 0})}}

    def steps(self, steps, stop_after):
        bar = ProgressBar(steps)
        for step in range(steps):
            if stop_after and step == stop_after:
                comfy.model_management.interrupt_current_processing()
            comfy.model_management.throw_exception_if_processing_interrupted()
            bar.update_absolute(step + 1, steps, ("JPEG", f"preview {step + 1}", 512))
            PromptServer.instance.send_sync("compat_pack.step", {"step": step + 1})
        return (steps,)


NODE_CLASS_MAPPINGS = {"CompatPickCheckpoint": PickCheckpoint, "CompatFolders": Folders, "CompatSteps": Steps}
