// 40_fetch.js
//
// The global fetch(), the chunk js/fetch, loaded on its first call.

function fetch(input, init = undefined) {
  return ReflectApply(layerChunk("fetch").fetch, undefined, arguments);
}
exposeOperation("fetch", fetch);
