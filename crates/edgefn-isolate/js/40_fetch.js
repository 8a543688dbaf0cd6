// 40_fetch.js
//
// The global fetch(), the chunk js/fetch, loaded on its first call.

function fetch(input, init = undefined) {
  let chunkFetch;
  try {
    chunkFetch = layerChunk("fetch").fetch;
  } catch (error) {
    // fetch() reports every failure through its promise (loading the chunk can run out of
    // the isolate's memory).
    return promiseReject(error);
  }
  return ReflectApply(chunkFetch, undefined, arguments);
}
exposeOperation("fetch", fetch);
