vcl 4.1;
# The edge cache in front of the shop (issue 17; README "Edge cache"). Varnish 7 with the xkey
# vmod (Debian's varnish-modules; included in the official varnish image).
#
# Cached: GET/HEAD of catalog pages under the locale prefix (/se/sv, /se/sv/womens/jeans, ...),
# which depend on the URL and Accept only, and of the catalog API's GET answers for callers
# without a Centra session. Everything else passes with its cookies untouched: the bag,
# checkout and account pages, the picker (/_/...), the checkout proxy, admin, webhooks.
# Lifetimes are the origin's (Cache-Control s-maxage: hours; storefront/edge/headers.py); a
# catalog change purges exactly the pages it touches by surrogate key (PURGE with an
# xkey-purge header, from the worker: storefront/edge/tasks.py).

import std;
import xkey;

# docker-compose's `web`. `./dev start --edge`, the tests and the benchmark render this file
# with their own address (storefront/edge/varnish.py replaces the .host and .port lines).
backend web {
    .host = "web";
    .port = "8000";
    .connect_timeout = 2s;
    .first_byte_timeout = 30s;
    .between_bytes_timeout = 10s;
    .probe = {
        .url = "/healthz";
        .interval = 2s;
        .timeout = 1s;
        .window = 5;
        .threshold = 3;
    }
}

# Who may purge: the worker, from this host or the private networks of a container stack.
acl purgers {
    "localhost";
    "127.0.0.1";
    "::1";
    "10.0.0.0"/8;
    "172.16.0.0"/12;
    "192.168.0.0"/16;
}

sub vcl_recv {
    # Never trust these from a client: they are this file's own notes.
    unset req.http.X-Edge-Kind;
    unset req.http.X-Edge-Context;

    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(403, "Forbidden"));
        }
        if (!req.http.xkey-purge) {
            return (synth(400, "an xkey-purge header is required"));
        }
        set req.http.X-Edge-Gone = xkey.purge(req.http.xkey-purge);
        return (synth(200, "Invalidated " + req.http.X-Edge-Gone + " objects"));
    }
    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }
    # Grace: an expired answer is served while it is refetched behind for 10 s past its
    # lifetime (stale-while-revalidate) while the origin is healthy, for as long as it is
    # kept (beresp.grace) while the origin is down.
    if (std.healthy(req.backend_hint)) {
        set req.grace = 10s;
    }

    if (req.url ~ "^/[a-z]{2}/[a-z]{2}(-[a-z]+)?(/|\?|$)") {
        # A catalog page: the URL says the country and language, nothing of the visitor
        # shows (the bag count is filled in by JavaScript from the cart_count cookie). No
        # cookie reaches the origin or the cache key; the geo header neither.
        set req.http.X-Edge-Kind = "page";
        unset req.http.Cookie;
        unset req.http.CF-IPCountry;
        return (hash);
    }

    if (req.url ~ "^/api/(checkout|catalog)/(products/[^/?]+|categories|countries|languages)(\?|$)") {
        # The catalog API follows a Centra session (API-token header, its Accept form, the
        # shopper's token cookie) and trusted callers name any market: those pass. The cookie
        # and header names are the settings' defaults (CHECKOUT_TOKEN_COOKIE, COUNTRY_COOKIE,
        # LANGUAGE_COOKIE, GEO_COUNTRY_HEADER): change them here too if you change those.
        if (req.http.Authorization || req.http.API-token || req.http.Accept ~ "(?i)api-token"
            || req.http.Cookie ~ "(^|;\s*)centra_token=") {
            return (pass);
        }
        # Otherwise it answers for the visitor's country and language cookies (else the geo
        # header): the key is the URL plus exactly those, never the whole Cookie header.
        set req.http.X-Edge-Country = "";
        set req.http.X-Edge-Language = "";
        if (req.http.Cookie ~ "(^|;\s*)country=[A-Za-z]{2}(;|$)") {
            set req.http.X-Edge-Country = regsub(req.http.Cookie, "^(.*;\s*)?country=([A-Za-z]{2})(;.*)?$", "\2");
        }
        if (req.http.Cookie ~ "(^|;\s*)language=[A-Za-z_-]{1,16}(;|$)") {
            set req.http.X-Edge-Language = regsub(req.http.Cookie, "^(.*;\s*)?language=([A-Za-z_-]{1,16})(;.*)?$", "\2");
        }
        unset req.http.Cookie;
        if (req.http.X-Edge-Country != "") {
            set req.http.Cookie = "country=" + req.http.X-Edge-Country;
        }
        if (req.http.X-Edge-Language != "") {
            set req.http.Cookie = req.http.Cookie + "; language=" + req.http.X-Edge-Language;
            set req.http.Cookie = regsub(req.http.Cookie, "^; ", "");
        }
        set req.http.X-Edge-Context = req.http.X-Edge-Country + "|" + req.http.X-Edge-Language
            + "|" + req.http.CF-IPCountry;
        unset req.http.X-Edge-Country;
        unset req.http.X-Edge-Language;
        set req.http.X-Edge-Kind = "api";
        return (hash);
    }

    # Bare catalog URLs (a redirect to the visitor's prefix), the bag, checkout and account
    # pages, the picker, the checkout proxy, admin, webhooks, health: the origin's, untouched.
    return (pass);
}

sub vcl_hash {
    if (req.http.X-Edge-Context) {
        hash_data(req.http.X-Edge-Context);
    }
    # The built-in vcl_hash adds the URL and the host.
}

sub vcl_backend_response {
    if (!bereq.http.X-Edge-Kind) {
        return (deliver);
    }
    if (beresp.status >= 500 && bereq.is_bgfetch) {
        # The origin failed behind a stale answer: keep serving that one.
        return (abandon);
    }
    if (beresp.http.Set-Cookie) {
        # Someone's cookie: never stored, never shared.
        set beresp.uncacheable = true;
        set beresp.ttl = 120s;
        return (deliver);
    }
    if (bereq.http.X-Edge-Kind == "api") {
        # The API answers carry no Cache-Control of their own: an hour here, purged by
        # "api" on every rebuild and by "p<id>" for a product's own answer.
        set beresp.http.xkey = "api";
        if (bereq.url ~ "^/api/[a-z]+/products/[^/?]+") {
            set beresp.http.xkey = "api p" + regsub(bereq.url, "^/api/[a-z]+/products/([^/?]+).*$", "\1");
        }
        if (!beresp.http.Cache-Control && beresp.status == 200) {
            set beresp.ttl = 1h;
        }
    } else {
        set beresp.http.xkey = beresp.http.Surrogate-Key;
        if (bereq.url ~ "^/[a-z]{2}/[a-z]{2}(-[a-z]+)?/?(\?|$)") {
            set beresp.http.xkey = beresp.http.xkey + " home";
        } elsif (bereq.url ~ "^/[a-z]{2}/[a-z]{2}(-[a-z]+)?/search(\?|$)") {
            set beresp.http.xkey = beresp.http.xkey + " search";
        }
    }
    if (beresp.http.X-Cache == "STALE") {
        # The origin answered from what it had while Centra or Redis was unreachable: a few
        # seconds only, the next answer is a fresh one.
        set beresp.ttl = 5s;
    }
    if (beresp.status == 404 && beresp.ttl > 60s) {
        # A page that does not exist yet carries no key of the product that may appear at
        # its URL (a launch): a minute, not hours.
        set beresp.ttl = 60s;
    }
    if (beresp.status >= 500) {
        set beresp.ttl = 0s;
    }
    # Kept past its lifetime, served while the origin is down (and for a moment while it
    # refetches behind: stale-while-revalidate).
    set beresp.grace = 24h;
    # The built-in vcl_backend_response honours Cache-Control (no-store, private, no-cache),
    # Vary: * and a zero lifetime with a short hit-for-miss.
}

sub vcl_deliver {
    unset resp.http.xkey;
    unset resp.http.X-Varnish-Internal;
    if (!req.http.X-Edge-Kind || obj.uncacheable) {
        set resp.http.X-Edge = "PASS";
    } elsif (obj.hits > 0) {
        set resp.http.X-Edge = "HIT";
    } else {
        set resp.http.X-Edge = "MISS";
    }
}

sub vcl_synth {
    set resp.http.Cache-Control = "no-store";
}
