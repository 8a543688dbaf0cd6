//! Which function a request path names.
//!
//! `/<name>/<rest>` and `/functions/v1/<name>/<rest>` (the path Supabase clients call) both go
//! to function `<name>`; paths under `/_edgefn/` belong to the server itself.

/// Where a request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route<'a> {
    /// To the function with this (not yet validated) name.
    Function(&'a str),
    /// To the server's own endpoint with this path below `/_edgefn/`.
    Admin(&'a str),
    /// Nowhere: the path names no function (`/`, `/functions/v1/`).
    NoFunction,
}

/// Prefix of the paths the server answers itself; never routed to a function.
pub const ADMIN_PREFIX: &str = "/_edgefn/";

const SUPABASE_PREFIX: &str = "/functions/v1/";

/// Routes a request path (without the query).
pub fn route(path: &str) -> Route<'_> {
    if let Some(admin) = path.strip_prefix(ADMIN_PREFIX) {
        return Route::Admin(admin);
    }
    let rest = path
        .strip_prefix(SUPABASE_PREFIX)
        .or_else(|| path.strip_prefix('/'))
        .unwrap_or(path);
    let name = rest.split('/').next().unwrap_or("");
    if name.is_empty() {
        Route::NoFunction
    } else {
        Route::Function(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_plain_and_supabase_paths() {
        assert_eq!(route("/hello"), Route::Function("hello"));
        assert_eq!(route("/hello/a/b"), Route::Function("hello"));
        assert_eq!(route("/functions/v1/hello"), Route::Function("hello"));
        assert_eq!(route("/functions/v1/hello/x?y"), Route::Function("hello"));
        assert_eq!(route("/functions"), Route::Function("functions"));
    }

    #[test]
    fn recognises_admin_and_empty_paths() {
        assert_eq!(route("/_edgefn/health"), Route::Admin("health"));
        assert_eq!(route("/"), Route::NoFunction);
        assert_eq!(route("/functions/v1/"), Route::NoFunction);
        assert_eq!(route("//x"), Route::NoFunction);
    }
}
