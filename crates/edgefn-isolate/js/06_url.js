// 06_url.js
//
// URL and URLSearchParams (WHATWG URL §6). Parsing, serialisation and the
// setters run on the host (`host.urlParse` / `host.urlSet`, the Rust `url`
// crate); application/x-www-form-urlencoded too (`host.formParse` /
// `host.formSerialize`). JS keeps the components array:
//   [href, origin, protocol, username, password, host, hostname, port,
//    pathname, search, hash]

const URL_HREF = 0;
const URL_ORIGIN = 1;
const URL_PROTOCOL = 2;
const URL_USERNAME = 3;
const URL_PASSWORD = 4;
const URL_HOST = 5;
const URL_HOSTNAME = 6;
const URL_PORT = 7;
const URL_PATHNAME = 8;
const URL_SEARCH = 9;
const URL_HASH = 10;

// Parses an absolute URL (no base) to its components, or null.
function parseAbsoluteURL(input) {
  return host.urlParse(input, undefined);
}

// What the core needs of URLSearchParams instances (09_body.js), set when the
// classes are created (until then no instance can exist).
let isURLSearchParams = (value) => false;
let urlSearchParamsSerialize; // (params) -> string

// application/x-www-form-urlencoded parser (URL §5.1), query without "?".
function formParseToList(query) {
  const list = [];
  if (query === "") return list;
  const flat = host.formParse(query);
  for (let i = 0; i + 1 < flat.length; i += 2) {
    list[list.length] = [flat[i], flat[i + 1]];
  }
  return list;
}

// application/x-www-form-urlencoded serializer (URL §5.2).
function formSerializeList(list) {
  if (list.length === 0) return "";
  const flat = [];
  for (let i = 0; i < list.length; i++) {
    flat[i * 2] = list[i][0];
    flat[i * 2 + 1] = list[i][1];
  }
  return host.formSerialize(flat);
}

// The classes are the chunk js/url, loaded on first use.
const urlClasses = once(() => {
  const made = layerChunk("url").makeURLClasses();
  isURLSearchParams = made.isURLSearchParams;
  urlSearchParamsSerialize = made.urlSearchParamsSerialize;
  return { URL: made.URL, URLSearchParams: made.URLSearchParams };
});

function urlInterface(name) {
  return urlClasses()[name];
}

exposeLazyInterface("URL", urlInterface);
exposeLazyInterface("URLSearchParams", urlInterface);
