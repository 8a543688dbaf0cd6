// 12_crypto.js
//
// The global `crypto` and `Crypto` (W3C Web Cryptography §10), made by the
// chunk js/crypto on first use.

exposeReplaceable("crypto", () => layerChunk("crypto").cryptoInstance());
