"""Copy the NHS.UK frontend and htmx from node_modules into the app's static folder.

The NHS.UK stylesheet points at absolute `/assets/...` paths and at web fonts on the internet;
Wholecare
serves everything itself, so the paths are rewritten under `/static/` and the font faces are dropped
(the design system falls back to Arial, which it is designed to do).
"""

import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE = ROOT / "node_modules"
STATIC = ROOT / "src" / "wholecare" / "web" / "static" / "vendor"
FONT_FACE = re.compile(r"@font-face\{[^}]*\}")


def main() -> int:
    nhsuk = NODE / "nhsuk-frontend" / "dist" / "nhsuk"
    htmx = NODE / "htmx.org" / "dist" / "htmx.min.js"
    if not nhsuk.is_dir() or not htmx.is_file():
        print(
            "node_modules is missing nhsuk-frontend or htmx.org: run `npm ci` first",
            file=sys.stderr,
        )
        return 1
    if STATIC.exists():
        shutil.rmtree(STATIC)
    (STATIC / "nhsuk").mkdir(parents=True)
    css = (nhsuk / "nhsuk-frontend.min.css").read_text(encoding="utf-8")
    css = FONT_FACE.sub("", css).replace("url(/assets/", "url(/static/vendor/nhsuk/assets/")
    css = re.sub(r"/\*# sourceMappingURL=.*?\*/", "", css)
    if "http://" in css or "https://" in css:
        print("the NHS.UK stylesheet still refers to the internet after rewriting", file=sys.stderr)
        return 1
    (STATIC / "nhsuk" / "nhsuk-frontend.min.css").write_text(css, encoding="utf-8")
    js = (nhsuk / "nhsuk-frontend.min.js").read_text(encoding="utf-8")
    js = re.sub(r"//# sourceMappingURL=.*$", "", js, flags=re.MULTILINE)
    (STATIC / "nhsuk" / "nhsuk-frontend.min.js").write_text(js, encoding="utf-8")
    shutil.copytree(nhsuk / "assets", STATIC / "nhsuk" / "assets")
    shutil.copy(htmx, STATIC / "htmx.min.js")
    print(f"static assets built into {STATIC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
