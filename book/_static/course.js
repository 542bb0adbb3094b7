/* Course book behaviour (added by book/_ext/course_book.py). */
/* Figures wider than the screen scroll in their own box; a box that scrolls must be reachable
   and scrollable with the keyboard (WCAG 2.1.1), so it gets tabindex=0 and a name. */
(function () {
  "use strict";
  const MIN_TEXT_PX = 11;
  function update(box) {
    const img = box.querySelector("img");
    const scrolls = box.scrollWidth > box.clientWidth + 1;
    if (scrolls) {
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", "Figure (scrolls sideways)" + (img && img.alt ? ": " + img.alt.slice(0, 80) : ""));
    } else {
      box.removeAttribute("tabindex");
      box.removeAttribute("role");
      box.removeAttribute("aria-label");
    }
  }
  /* The smallest text of the figure, in image pixels: class course-text-px-NNN (tenths of a pixel,
     written by the book's extension from the PNG) or data-min-text-px (static widget figures). */
  function textPx(img) {
    const m = /(?:^|\s)course-text-px-(\d+)/.exec(img.className);
    if (m) return parseInt(m[1], 10) / 10;
    const d = parseFloat(img.getAttribute("data-min-text-px"));
    return d > 0 ? d : null;
  }
  function legible(img) {
    const px = textPx(img);
    if (px && img.naturalWidth) {
      const need = Math.ceil(img.naturalWidth * MIN_TEXT_PX / px);
      img.style.minWidth = Math.min(need, img.naturalWidth) + "px";
    }
  }
  function wrap() {
    document.querySelectorAll("article .cell_output img, article .course-interactive img").forEach(function (img) {
      let box = img.closest(".course-figure-scroll");
      if (!box) {
        box = document.createElement("div");
        box.className = "course-figure-scroll";
        img.parentNode.insertBefore(box, img);
        box.appendChild(img);
      }
      const fit = function () { legible(img); update(box); };
      if (img.complete) fit(); else img.addEventListener("load", fit);
    });
  }
  function updateAll() { document.querySelectorAll(".course-figure-scroll").forEach(update); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", wrap); else wrap();
  window.addEventListener("resize", updateAll);
})();
