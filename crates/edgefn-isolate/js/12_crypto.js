// 12_crypto.js
//
// The global `crypto` (W3C Web Cryptography §10), made by the chunk js/crypto
// on first use (which names `Crypto` in its 99_interfaces.js).

exposeReplaceable("crypto", () => layerChunk("crypto").cryptoInstance());
