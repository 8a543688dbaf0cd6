// url/06_url_classes.js
//
// The URL and URLSearchParams classes (WHATWG URL §6) behind 06_url.js: the
// chunk "url", loaded when a function first uses either.

// Internal helpers, set up in the class bodies below.
let urlSearchParamsCreate; // (url, query) -> URLSearchParams linked to url
let urlSearchParamsReplaceList; // (params, query) -> void
let urlApplyQueryFromParams; // (url, serialized) -> void
let isURLSearchParams; // (value) -> boolean
let urlSearchParamsSerialize; // (params) -> string

function urlQueryOf(components) {
  const search = components[URL_SEARCH];
  return search === "" ? "" : search.slice(1);
}

// Creates the classes, and returns them with the helpers the core uses.
function makeURLClasses() {
  class URL {
    #c;
    #searchParams = null;

    // URL §6.1 constructor(url, base): API URL parser on the host.
    constructor(url, base = undefined) {
      requireArguments(arguments.length, 1, "URL");
      url = toUSVString(url);
      if (base !== undefined) base = toUSVString(base);
      const components = host.urlParse(url, base);
      if (components === null) {
        throw new TypeErrorCtor(
          base === undefined
            ? `Invalid URL: '${url}'`
            : `Invalid URL: '${url}' with base '${base}'`,
        );
      }
      this.#c = components;
    }

    static parse(url, base = undefined) {
      requireArguments(arguments.length, 1, "URL.parse");
      try {
        return new URL(url, base);
      } catch {
        return null;
      }
    }

    static canParse(url, base = undefined) {
      requireArguments(arguments.length, 1, "URL.canParse");
      url = toUSVString(url);
      if (base !== undefined) base = toUSVString(base);
      return host.urlParse(url, base) !== null;
    }

    #set(name, value) {
      const components = host.urlSet(this.#c[URL_HREF], name, toUSVString(value));
      if (components === null) {
        throw new TypeErrorCtor(`Invalid URL: '${toUSVString(value)}'`);
      }
      const searchChanged = components[URL_SEARCH] !== this.#c[URL_SEARCH];
      this.#c = components;
      if (searchChanged && this.#searchParams !== null) {
        urlSearchParamsReplaceList(this.#searchParams, urlQueryOf(components));
      }
    }

    get href() {
      return this.#c[URL_HREF];
    }
    set href(value) {
      this.#set("href", value);
    }

    get origin() {
      return this.#c[URL_ORIGIN];
    }

    get protocol() {
      return this.#c[URL_PROTOCOL];
    }
    set protocol(value) {
      this.#set("protocol", value);
    }

    get username() {
      return this.#c[URL_USERNAME];
    }
    set username(value) {
      this.#set("username", value);
    }

    get password() {
      return this.#c[URL_PASSWORD];
    }
    set password(value) {
      this.#set("password", value);
    }

    get host() {
      return this.#c[URL_HOST];
    }
    set host(value) {
      this.#set("host", value);
    }

    get hostname() {
      return this.#c[URL_HOSTNAME];
    }
    set hostname(value) {
      this.#set("hostname", value);
    }

    get port() {
      return this.#c[URL_PORT];
    }
    set port(value) {
      this.#set("port", value);
    }

    get pathname() {
      return this.#c[URL_PATHNAME];
    }
    set pathname(value) {
      this.#set("pathname", value);
    }

    get search() {
      return this.#c[URL_SEARCH];
    }
    set search(value) {
      this.#set("search", value);
    }

    // [SameObject]; created on first use, then kept in sync (URL §6.1).
    get searchParams() {
      if (this.#searchParams === null) {
        this.#searchParams = urlSearchParamsCreate(this, urlQueryOf(this.#c));
      }
      return this.#searchParams;
    }

    get hash() {
      return this.#c[URL_HASH];
    }
    set hash(value) {
      this.#set("hash", value);
    }

    toString() {
      return this.#c[URL_HREF];
    }

    toJSON() {
      return this.#c[URL_HREF];
    }

    static {
      // URL §6.2 "update steps" of a URLSearchParams linked to a URL: set the
      // query from the serialized list (empty -> no query).
      urlApplyQueryFromParams = (url, serialized) => {
        url.#c = host.urlSet(url.#c[URL_HREF], "search", serialized);
      };
    }
  }
  configureInterface(URL);

  // Web IDL: URL.prototype.toString is the stringifier; same for href.
  registerInspectHook(URL, (url) => ({
    href: url.href,
    origin: url.origin,
    protocol: url.protocol,
    username: url.username,
    password: url.password,
    host: url.host,
    hostname: url.hostname,
    port: url.port,
    pathname: url.pathname,
    hash: url.hash,
    search: url.search,
  }));

  class URLSearchParams {
    #list = [];
    #url = null;

    // URL §6.2 constructor(init)
    constructor(init = "") {
      if (init === kInternal) return; // linked instance, filled by the URL
      if (isObjectLike(init)) {
        const method = init[SymbolIterator];
        if (method !== undefined && method !== null) {
          if (typeof method !== "function") {
            throw new TypeErrorCtor(
              "URLSearchParams: the init value's Symbol.iterator is not a function",
            );
          }
          // sequence<sequence<USVString>>
          for (const pair of { [SymbolIterator]: () => ReflectApply(method, init, []) }) {
            if (!isObjectLike(pair) || typeof pair[SymbolIterator] !== "function") {
              throw new TypeErrorCtor(
                "URLSearchParams: each init pair must be an iterable of two strings",
              );
            }
            const items = [...pair];
            if (items.length !== 2) {
              throw new TypeErrorCtor(
                "URLSearchParams: each init pair must contain exactly two items",
              );
            }
            this.#list.push([toUSVString(items[0]), toUSVString(items[1])]);
          }
        } else {
          // record<USVString, USVString>
          const keys = ReflectOwnKeys(init);
          for (let i = 0; i < keys.length; i++) {
            const key = keys[i];
            if (typeof key !== "string") continue;
            const desc = ObjectGetOwnPropertyDescriptor(init, key);
            if (desc === undefined || !desc.enumerable) continue;
            this.#list.push([toUSVString(key), toUSVString(init[key])]);
          }
        }
      } else {
        let s = toUSVString(init);
        if (s.charCodeAt(0) === 63) s = s.slice(1); // leading "?"
        this.#list = formParseToList(s);
      }
    }

    // URL §6.2 "update steps"
    #update() {
      if (this.#url !== null) {
        urlApplyQueryFromParams(this.#url, formSerializeList(this.#list));
      }
    }

    get size() {
      return this.#list.length;
    }

    append(name, value) {
      requireArguments(arguments.length, 2, "URLSearchParams.append");
      this.#list.push([toUSVString(name), toUSVString(value)]);
      this.#update();
    }

    delete(name, value = undefined) {
      requireArguments(arguments.length, 1, "URLSearchParams.delete");
      name = toUSVString(name);
      const list = this.#list;
      let j = 0;
      if (value === undefined) {
        for (let i = 0; i < list.length; i++) {
          if (list[i][0] !== name) list[j++] = list[i];
        }
      } else {
        value = toUSVString(value);
        for (let i = 0; i < list.length; i++) {
          if (list[i][0] !== name || list[i][1] !== value) list[j++] = list[i];
        }
      }
      list.length = j;
      this.#update();
    }

    get(name) {
      requireArguments(arguments.length, 1, "URLSearchParams.get");
      name = toUSVString(name);
      const list = this.#list;
      for (let i = 0; i < list.length; i++) {
        if (list[i][0] === name) return list[i][1];
      }
      return null;
    }

    getAll(name) {
      requireArguments(arguments.length, 1, "URLSearchParams.getAll");
      name = toUSVString(name);
      const out = [];
      const list = this.#list;
      for (let i = 0; i < list.length; i++) {
        if (list[i][0] === name) out.push(list[i][1]);
      }
      return out;
    }

    has(name, value = undefined) {
      requireArguments(arguments.length, 1, "URLSearchParams.has");
      name = toUSVString(name);
      if (value !== undefined) value = toUSVString(value);
      const list = this.#list;
      for (let i = 0; i < list.length; i++) {
        if (list[i][0] === name && (value === undefined || list[i][1] === value)) {
          return true;
        }
      }
      return false;
    }

    set(name, value) {
      requireArguments(arguments.length, 2, "URLSearchParams.set");
      name = toUSVString(name);
      value = toUSVString(value);
      const list = this.#list;
      let found = false;
      let j = 0;
      for (let i = 0; i < list.length; i++) {
        if (list[i][0] === name) {
          if (found) continue;
          found = true;
          list[i] = [name, value];
        }
        list[j++] = list[i];
      }
      list.length = j;
      if (!found) list.push([name, value]);
      this.#update();
    }

    sort() {
      // URL §6.2 sort(): stable, by name in UTF-16 code units.
      this.#list = stableSortBy(this.#list, (pair) => pair[0]);
      this.#update();
    }

    forEach(callback, thisArg = undefined) {
      requireArguments(arguments.length, 1, "URLSearchParams.forEach");
      if (typeof callback !== "function") {
        throw new TypeErrorCtor("URLSearchParams.forEach: the callback is not a function");
      }
      const list = this.#list;
      for (let i = 0; i < list.length; i++) {
        ReflectApply(callback, thisArg, [list[i][1], list[i][0], this]);
      }
    }

    toString() {
      return formSerializeList(this.#list);
    }

    static {
      urlSearchParamsCreate = (url, query) => {
        const params = new URLSearchParams(kInternal);
        params.#list = formParseToList(query);
        params.#url = url;
        return params;
      };
      urlSearchParamsReplaceList = (params, query) => {
        params.#list = formParseToList(query);
      };
      isURLSearchParams = (value) => isObjectLike(value) && #list in value;
      urlSearchParamsSerialize = (params) => formSerializeList(params.#list);
      definePairIterable(
        URLSearchParams,
        "URLSearchParams Iterator",
        isURLSearchParams,
        (params) => params.#list.length,
        (params, index) => params.#list[index],
      );
    }
  }
  configureInterface(URLSearchParams);

  registerInspectHook(URLSearchParams, pairsAsInspectFields);

  return { URL, URLSearchParams, isURLSearchParams, urlSearchParamsSerialize };
}
