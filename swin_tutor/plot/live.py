"""Live controls with a static fallback that needs no kernel.

A notebook's slider (ipywidgets) only works with a running kernel; on the rendered site, or in a
notebook opened without running it, the widget is an empty box. So every live control in the series
comes with a :class:`FrameStepper`: the same drawing precomputed for a few values of the control,
stored as PNG frames in one HTML output with previous/next buttons and a range slider. Its HTML is
deterministic (ids come from ``name``, no random ids), and its ``text/plain`` form is one stable line,
so stored outputs stay a regression test (the PNG data is masked like any other image).
"""

from __future__ import annotations

import base64
import html
import io
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

__all__ = ["FrameStepper", "live_control", "precompute_frames"]

_NAME = re.compile(r"^[a-z][a-z0-9-]*$")


class FrameStepper:
    """Precomputed PNG frames of one drawing, stepped with buttons or a slider in the browser."""

    def __init__(self, name: str, label: str, values: Sequence[Any], frames: Sequence[bytes]) -> None:
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError(f"name must be lower-case letters, digits and '-' (an HTML id), got {name!r}")
        if len(values) != len(frames) or not frames:
            raise ValueError(
                f"values and frames must be non-empty and of one length, got {len(values)} and {len(frames)}"
            )
        self.name, self.label, self.values, self.frames = name, label, list(values), list(frames)

    def __len__(self) -> int:
        return len(self.frames)

    def __repr__(self) -> str:
        shown = ", ".join(str(v) for v in self.values)
        return f"Static version of the control: {len(self)} frames, {self.label} = {shown}"

    def _repr_html_(self) -> str:
        uid = f"stepper-{self.name}"
        sources = [f"data:image/png;base64,{base64.b64encode(png).decode('ascii')}" for png in self.frames]
        captions = [html.escape(f"{self.label} = {v}") for v in self.values]
        # One <img>, its source swapped by a few lines of inline script: no library, nothing fetched.
        # Each frame is in the HTML once: the first as the <img>'s source (what a reader without
        # JavaScript sees), the others in the script, which takes the first back from the <img>.
        frames_js = "".join(f',"{s}"' for s in sources[1:])
        captions_js = ",".join(f'"{c}"' for c in captions)
        last = len(self) - 1
        return (
            f'<div class="swin-stepper" id="{uid}">'
            f'<div><button type="button" class="prev" aria-label="previous frame">&#9664;</button> '
            f'<input type="range" class="pick" min="0" max="{last}" value="0" step="1" '
            f'aria-label="{html.escape(self.label)}"> '
            f'<button type="button" class="next" aria-label="next frame">&#9654;</button> '
            f'<span class="caption">{captions[0]}</span> '
            f'<span style="color:#777">(static version: precomputed, no kernel needed)</span></div>'
            f'<img class="frame" alt="{captions[0]}" src="{sources[0]}">'
            f"<script>(function(){{var root=document.getElementById('{uid}');"
            "var img=root.querySelector('.frame'),pick=root.querySelector('.pick'),cap=root.querySelector('.caption');"
            f"var frames=[img.getAttribute('src'){frames_js}];var captions=[{captions_js}];"
            "function show(i){i=Math.max(0,Math.min(frames.length-1,i));pick.value=i;img.src=frames[i];"
            "img.alt=captions[i];cap.textContent=captions[i];root.dataset.frame=i;}"
            "root.querySelector('.prev').onclick=function(){show(+pick.value-1);};"
            "root.querySelector('.next').onclick=function(){show(+pick.value+1);};"
            "pick.oninput=function(){show(+pick.value);};show(0);})();</script></div>"
        )


def precompute_frames(
    draw: Callable[[Any], Any],
    values: Iterable[Any],
    *,
    name: str,
    label: str,
    dpi: int = 72,
) -> FrameStepper:
    """Call ``draw(value)`` for each value (it draws one matplotlib figure and may return it), save
    each figure as a PNG frame and close it; the frames become a :class:`FrameStepper`.

    ``values`` may be any iterable (a list, a range, a generator); it is read once. The figures a
    call opens are closed even when ``draw`` raises.
    """
    import matplotlib.pyplot as plt

    values = list(values)
    if len(values) == 0:
        raise ValueError("values must name at least one setting of the control, got an empty sequence")
    frames = []
    for value in values:
        before = set(plt.get_fignums())
        figure = None
        try:
            returned = draw(value)
            figure = returned if hasattr(returned, "savefig") else None
            new = [n for n in plt.get_fignums() if n not in before]
            if figure is None:
                if not new:
                    raise ValueError(f"draw({value!r}) drew no figure: it must create one (and may return it)")
                figure = plt.figure(new[-1])
            buffer = io.BytesIO()
            figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
            frames.append(buffer.getvalue())
        finally:
            opened = {n for n in plt.get_fignums() if n not in before}
            if figure is not None:
                opened.add(figure.number)
            for number in opened:
                plt.close(number)
    return FrameStepper(name, label, values, frames)


def live_control(draw: Callable[..., Any], controls: dict[str, Any], *, dpi: int = 72) -> Any:
    """A live control (ipywidgets): the widgets in ``controls`` above the figure ``draw(**values)`` makes,
    drawn once at once and again whenever a control moves; returns the box to display.

    The figure goes into the picture widget's state as a PNG (not into the cell's output, and no figure is
    left open), so a notebook's stored outputs are the same with a browser, without one (nbval) and in a
    RISE slideshow. ``controls`` maps each keyword of ``draw`` to a widget with a ``value``. If ``draw`` raises,
    its figures are closed, the error is shown in place of the picture and raised again.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    if not isinstance(controls, dict) or not controls or not all(hasattr(c, "observe") for c in controls.values()):
        raise ValueError(f"controls must map draw's keywords to ipywidgets controls, got {controls!r}")

    class Picture(widgets.Output):
        def _repr_keys(self):  # the text form of the box stays short and stable: no PNG data in it
            return iter(())

    picture = Picture()

    def redraw(change: object = None) -> None:
        values = {key: control.value for key, control in controls.items()}
        before = set(plt.get_fignums())
        opened: set[int] = set()
        try:
            returned = draw(**values)
            opened = {n for n in plt.get_fignums() if n not in before}
            figure = returned if hasattr(returned, "savefig") else (plt.figure(max(opened)) if opened else None)
            if figure is None:
                raise ValueError(f"draw({values}) drew no figure: it must create one (and may return it)")
            opened.add(figure.number)
            buffer = io.BytesIO()
            figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
        except Exception as error:
            # after a slider move the error would only reach the kernel's log: show it where the picture was
            opened |= {n for n in plt.get_fignums() if n not in before}
            text = f"draw({values}) failed: {type(error).__name__}: {error}\n"
            picture.outputs = ({"output_type": "stream", "name": "stderr", "text": text},)
            raise
        finally:
            for number in opened:
                plt.close(number)
        png = base64.b64encode(buffer.getvalue()).decode("ascii")
        shown = ", ".join(f"{key} = {value}" for key, value in values.items())
        data = {"image/png": png, "text/plain": f"<Figure: {shown}>"}
        picture.outputs = ({"output_type": "display_data", "data": data, "metadata": {}},)

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    return widgets.VBox([*controls.values(), picture])
