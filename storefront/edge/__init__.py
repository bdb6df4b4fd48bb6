"""The edge cache in front of the shop (issue 17): what pages tell it (:mod:`.headers`), which
surrogate keys a catalog change purges (:mod:`.keys`), the purge interface and its Varnish,
Fastly and Cloudflare implementations (:mod:`.purgers`), the worker's purge task
(:mod:`.tasks`) and a local varnishd for ``./dev start --edge``, the tests and the benchmark
(:mod:`.varnish`). The VCL itself is ``edge/default.vcl``.

Kernel code: it knows the surrogate key scheme (``p<product> c<category> m<market>``, the shop's
``Surrogate-Key`` header) but imports no app; the catalog's tasks call :mod:`.tasks`.
"""
