extension WebPage {
    /// Colours meet WCAG AA contrast (4.5:1 for text) on their backgrounds, in light and dark
    /// schemes; below 40em the layout is one column.
    static let stylesheetText = #"""
:root {
  color-scheme: light dark;
  --bg: #ffffff; --fg: #1a1a1a; --muted: #4d4d4d; --line: #c8c8c8; --panel: #f4f5f7;
  --accent: #0b57d0; --accent-fg: #ffffff; --bar: #0b57d0; --test: #b3261e; --focus: #e37400;
  --ok: #146c2e; --bad: #b3261e;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #16181c; --fg: #ececec; --muted: #b4b4b4; --line: #4a4d52; --panel: #22252a;
    --accent: #8ab4f8; --accent-fg: #0b1a33; --bar: #8ab4f8; --test: #f28b82; --focus: #fdd663;
    --ok: #81c995; --bad: #f28b82;
  }
}
* { box-sizing: border-box; }
html { font: 100%/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
body { margin: 0; background: var(--bg); color: var(--fg); }
header, main, footer { max-width: 64rem; margin: 0 auto; padding: 0 1rem; }
header { display: flex; flex-wrap: wrap; align-items: end; gap: 0.5rem 2rem; padding-top: 1rem; }
header h1 { margin: 0; font-size: 1.75rem; }
.tagline { margin: 0; color: var(--muted); flex: 1 1 20rem; }
.key { display: flex; flex-direction: column; }
section { border-top: 1px solid var(--line); margin-top: 1.5rem; padding-top: 0.5rem; }
h2 { font-size: 1.25rem; margin: 0.5rem 0; }
.section-head { display: flex; align-items: center; justify-content: space-between; gap: 1rem; }
a { color: var(--accent); }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: 1rem; background: var(--bg); padding: 0.5rem; z-index: 1; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.hint { color: var(--muted); font-size: 0.875rem; }
.status { min-height: 1.5em; margin: 0.25rem 0; color: var(--muted); }
.status.error { color: var(--bad); font-weight: 600; }
label { font-weight: 600; }
input, select, button { font: inherit; color: inherit; }
input, select { background: var(--bg); border: 1px solid var(--muted); border-radius: 4px; padding: 0.4rem 0.5rem; min-height: 2.5rem; }
button { background: var(--accent); color: var(--accent-fg); border: 0; border-radius: 4px; padding: 0.5rem 1rem;
         min-height: 2.5rem; cursor: pointer; font-weight: 600; }
button.secondary { background: transparent; color: var(--accent); border: 1px solid var(--accent); min-height: 2rem; padding: 0.25rem 0.75rem; }
button:disabled { opacity: 0.6; cursor: default; }
:focus-visible, .drop:focus-within { outline: 3px solid var(--focus); outline-offset: 2px; }
.field { display: flex; flex-direction: column; gap: 0.25rem; margin-bottom: 0.75rem; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(14rem, 1fr)); gap: 0 1rem; align-items: start; }
.actions { display: flex; align-items: end; min-height: 4.25rem; padding-bottom: 0.75rem; }
/* Relative, so the tables' visually hidden captions stay inside the scrolling box too. */
.scroll { overflow-x: auto; position: relative; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 0.4rem 0.6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 0.875rem; color: var(--muted); }
td.number { text-align: right; white-space: nowrap; }
td code, .mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 0.875rem; }
abbr { text-decoration: none; cursor: help; }
.versions { margin: 0; padding: 0; list-style: none; font-size: 0.875rem; }
.state-READY, .state-succeeded { color: var(--ok); font-weight: 600; }
.state-UNAVAILABLE, .state-failed { color: var(--bad); font-weight: 600; }
.drop { display: flex; align-items: center; justify-content: center; position: relative; min-height: 7rem;
        border: 2px dashed var(--muted); border-radius: 8px; background: var(--panel); padding: 1rem;
        text-align: center; font-weight: 400; cursor: pointer; }
.drop.over { border-color: var(--accent); border-style: solid; }
.drop input { position: absolute; inset: 0; width: 100%; height: 100%; opacity: 0; cursor: pointer; }
.link { color: var(--accent); text-decoration: underline; }
.prediction { display: flex; flex-wrap: wrap; gap: 1rem 2rem; align-items: flex-start; margin-top: 1rem; }
.prediction[hidden] { display: none; }
.prediction figure { margin: 0; }
.prediction img { width: 8rem; height: 8rem; object-fit: contain; image-rendering: pixelated; background: #000;
                  border: 1px solid var(--line); display: block; }
.prediction figcaption { font-size: 0.875rem; color: var(--muted); max-width: 8rem; overflow-wrap: anywhere; }
.bars { flex: 1 1 18rem; margin: 0; padding: 0; list-style: none; }
.bars li { display: grid; grid-template-columns: minmax(6rem, 9rem) 1fr 4.5rem; gap: 0.5rem; align-items: center; margin-bottom: 0.4rem; }
.bars .track { background: var(--panel); border: 1px solid var(--line); height: 1.25rem; border-radius: 3px; overflow: hidden; }
.bars .fill { background: var(--bar); height: 100%; width: 0; }
.bars .value { text-align: right; font-variant-numeric: tabular-nums; }
.bars li:first-child .name { font-weight: 700; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(16rem, 1fr)); gap: 1rem; }
.charts figure { margin: 0; }
.charts canvas { width: 100%; height: auto; background: var(--panel); border: 1px solid var(--line); border-radius: 4px; }
.charts figcaption { font-size: 0.875rem; color: var(--muted); }
.key-train { color: var(--bar); font-weight: 700; }
.key-test { color: var(--test); font-weight: 700; }
footer { margin-top: 2rem; padding-bottom: 2rem; color: var(--muted); font-size: 0.875rem; border-top: 1px solid var(--line); }
@media (max-width: 40em) {
  header { align-items: stretch; flex-direction: column; }
  .bars li { grid-template-columns: 6.5rem 1fr 4rem; }
  .prediction img { width: 6rem; height: 6rem; }
}
"""#
}
