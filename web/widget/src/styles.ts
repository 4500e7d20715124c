// The widget's look, inside its shadow root. Sites theme it with custom
// properties on the element: --parley-accent, --parley-accent-text,
// --parley-font, --parley-radius.
export const css = `
:host{all:initial;position:fixed;right:1.25rem;bottom:1.25rem;z-index:2147483000;
--a:var(--parley-accent,#1d4ed8);--at:var(--parley-accent-text,#fff);--r:var(--parley-radius,.9rem);
font:15px/1.45 var(--parley-font,system-ui,-apple-system,"Segoe UI",Roboto,sans-serif);color:#111827}
*{box-sizing:border-box}
[hidden]{display:none!important}
.sr{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
button{font:inherit;cursor:pointer}
:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
.launcher{display:flex;align-items:center;gap:.5rem;margin-left:auto;padding:.75rem 1.1rem;border:0;border-radius:999px;
background:var(--a);color:var(--at);font-weight:600;box-shadow:0 6px 20px rgba(0,0,0,.25)}
.launcher svg{width:1.3rem;height:1.3rem;fill:currentColor}
.badge{background:#dc2626;color:#fff;border-radius:999px;padding:0 .45rem;font-size:.8rem;line-height:1.4rem}
.panel{display:flex;flex-direction:column;width:min(23rem,calc(100vw - 2.5rem));height:min(36rem,calc(100vh - 6.5rem));
margin-bottom:.75rem;background:#fff;border-radius:var(--r);box-shadow:0 12px 40px rgba(0,0,0,.28);overflow:hidden}
header{display:flex;align-items:center;gap:.5rem;padding:.8rem 1rem;background:var(--a);color:var(--at)}
h2{flex:1;margin:0;font-size:1.05rem}
.min{border:0;background:transparent;color:inherit;width:2rem;height:2rem;border-radius:.4rem;display:grid;place-items:center}
.min:hover{background:rgba(255,255,255,.18)}
.min svg{width:1.1rem;height:1.1rem;stroke:currentColor;stroke-width:2.5;fill:none}
.note{margin:0;padding:.55rem 1rem;background:#eff6ff;color:#1e3a8a;font-size:.85rem;border-bottom:1px solid #dbeafe}
.status{margin:0;padding:.4rem 1rem;background:#fef3c7;color:#78350f;font-size:.85rem}
.status:empty{display:none}
.log{flex:1;overflow-y:auto;padding:.75rem 1rem;background:#f9fafb}
.msgs{list-style:none;margin:0;padding:0;display:flex;flex-direction:column;gap:.5rem}
.m{max-width:85%;align-self:flex-start;display:flex;flex-direction:column}
.m.customer{align-self:flex-end;align-items:flex-end}
.who{font-size:.78rem;color:#4b5563;margin:0 .25rem .1rem}
.text{margin:0;padding:.5rem .75rem;border-radius:var(--r);background:#fff;border:1px solid #e5e7eb;white-space:pre-wrap;overflow-wrap:anywhere}
.customer .text{background:var(--a);color:var(--at);border-color:transparent}
.pending .text{background:#dbeafe;color:#1e3a8a}
.failed .text{background:#fff;color:#991b1b;border:1px dashed #dc2626}
.meta{font-size:.75rem;color:#4b5563;margin:.1rem .25rem 0;display:flex;gap:.35rem;align-items:center}
.meta button{border:0;background:none;color:#1d4ed8;text-decoration:underline;padding:0;font-size:inherit}
.sep{text-align:center;font-size:.8rem;color:#4b5563;margin:.9rem 0;display:flex;align-items:center;gap:.5rem}
.sep::before,.sep::after{content:"";flex:1;border-top:1px solid #d1d5db}
.invite,.welcome{margin:.5rem 0;color:#374151;font-size:.9rem;text-align:center}
.older{display:block;margin:0 auto .75rem;border:1px solid #d1d5db;background:#fff;border-radius:999px;padding:.25rem .8rem;font-size:.85rem;color:#1f2937}
.typing{margin:0;padding:0 1rem;min-height:1.4rem;font-size:.82rem;color:#4b5563;font-style:italic;background:#f9fafb}
.notice{margin:0;padding:.55rem 1rem;font-size:.88rem;background:#fef2f2;color:#991b1b;border-top:1px solid #fecaca}
.notice.info{background:#f0fdf4;color:#14532d;border-color:#bbf7d0}
form{display:flex;gap:.5rem;align-items:flex-end;padding:.65rem .75rem;border-top:1px solid #e5e7eb;background:#fff}
textarea{flex:1;resize:none;font:inherit;min-height:2.6rem;max-height:8rem;padding:.5rem .65rem;border:1px solid #6b7280;border-radius:.6rem;color:inherit;background:#fff}
.send{border:0;border-radius:.6rem;padding:.55rem 1rem;background:var(--a);color:var(--at);font-weight:600;min-height:2.6rem}
.send:disabled{opacity:.6;cursor:default}
.foot{padding:0 .75rem .6rem;background:#fff;text-align:right}
.end{border:1px solid #d1d5db;background:#fff;color:#991b1b;border-radius:.5rem;padding:.3rem .8rem;font-size:.85rem}
.end:disabled{color:#6b7280;cursor:default}
@media (max-width:30rem){:host{right:.5rem;bottom:.5rem;left:.5rem}.panel{width:100%;height:calc(100vh - 5.5rem)}}
@media (prefers-reduced-motion:no-preference){.panel{animation:up .18s ease-out}@keyframes up{from{transform:translateY(.75rem);opacity:0}}}
`;
