"""CLIP's image preprocessing as Hugging Face's CLIPProcessor (openai/clip-vit-base-patch32) does it, with Pillow only:
RGB, the short side to 224 and the long side to int(224 * long / short) (get_resize_output_image_size), Image.resize with
BICUBIC and reducing_gap=None, the centre crop (size - 224) // 2. Writes the 224 x 224 RGB bytes of each image named on
the command line to standard output, one after the other (ClipPreprocessingTest compares them with axfleet's)."""
import sys

from PIL import Image

SIDE = 224

for path in sys.argv[1:]:
    image = Image.open(path).convert("RGB")
    width, height = image.size
    if width <= height:
        size = (SIDE, int(SIDE * height / width))
    else:
        size = (int(SIDE * width / height), SIDE)
    resized = image.resize(size, resample=Image.BICUBIC, reducing_gap=None)
    left = (size[0] - SIDE) // 2
    top = (size[1] - SIDE) // 2
    sys.stdout.buffer.write(resized.crop((left, top, left + SIDE, top + SIDE)).tobytes())
sys.stdout.flush()
