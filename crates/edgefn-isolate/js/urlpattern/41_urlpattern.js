// 41_urlpattern.js
//
// URLPattern (WHATWG URL Pattern §1): patterns and inputs are parsed on the host (the
// `urlpattern` crate); the component regular expressions it produces are compiled and run
// here, with ECMAScript semantics, as the standard requires.

const URL_PATTERN_COMPONENTS = [
  "protocol", "username", "password", "hostname", "port", "pathname", "search", "hash",
];

// URLPatternInput: a string, or a URLPatternInit dictionary of USVStrings.
function urlPatternInputJson(input, context) {
  if (typeof input === "string" || (typeof input !== "object" && typeof input !== "function")) {
    return JSONStringify(toUSVString(input));
  }
  const init = {};
  for (const key of [...URL_PATTERN_COMPONENTS, "baseURL"]) {
    const value = input[key];
    if (value !== undefined) init[key] = toUSVString(value);
  }
  return JSONStringify(init);
}

const urlPatternClass = once(() => {
  class URLPattern {
    #components;
    #hasRegExpGroups;

    // URL Pattern §1.3 constructor(input, baseURL, options) / constructor(input, options)
    constructor(input = {}, baseURL = undefined, options = undefined) {
      if (baseURL !== undefined && baseURL !== null && typeof baseURL === "object") {
        options = baseURL;
        baseURL = undefined;
      }
      const ignoreCase = !!options?.ignoreCase;
      const parsed = JSONParse(
        host.urlPatternParse(
          urlPatternInputJson(input, "URLPattern"),
          baseURL === undefined ? undefined : toUSVString(baseURL),
          ignoreCase,
        ),
      );
      const components = {};
      for (const key of URL_PATTERN_COMPONENTS) {
        const component = parsed[key];
        let regexp;
        try {
          regexp = new RegExpCtor(component.regexpString, ignoreCase ? "ui" : "u");
        } catch (error) {
          throw new TypeErrorCtor(`URLPattern: invalid regular expression in ${key}: ${error.message}`);
        }
        components[key] = {
          patternString: component.patternString,
          regexp,
          groupNameList: component.groupNameList,
        };
      }
      this.#components = components;
      this.#hasRegExpGroups = parsed.hasRegexpGroups === true;
    }

    get protocol() { return this.#components.protocol.patternString; }
    get username() { return this.#components.username.patternString; }
    get password() { return this.#components.password.patternString; }
    get hostname() { return this.#components.hostname.patternString; }
    get port() { return this.#components.port.patternString; }
    get pathname() { return this.#components.pathname.patternString; }
    get search() { return this.#components.search.patternString; }
    get hash() { return this.#components.hash.patternString; }
    get hasRegExpGroups() { return this.#hasRegExpGroups; }

    // URL Pattern §1.3 test(input, baseURL)
    test(input = {}, baseURL = undefined) {
      return this.exec(input, baseURL) !== null;
    }

    // URL Pattern §1.3 exec(input, baseURL): "match" a URL pattern.
    exec(input = {}, baseURL = undefined) {
      const processed = host.urlPatternInput(
        urlPatternInputJson(input, "URLPattern.exec"),
        baseURL === undefined ? undefined : toUSVString(baseURL),
      );
      if (processed === null) return null;
      const { components, inputs } = JSONParse(processed);
      const result = { inputs };
      for (const key of URL_PATTERN_COMPONENTS) {
        const component = this.#components[key];
        const value = components[key];
        const match = ReflectApply(RegExpPrototypeExec, component.regexp, [value]);
        if (match === null) return null;
        const groups = {};
        const names = component.groupNameList;
        for (let i = 0; i < names.length; i++) groups[names[i]] = match[i + 1];
        result[key] = { input: value, groups };
      }
      return result;
    }
  }
  configureInterface(URLPattern);
  return URLPattern;
});
