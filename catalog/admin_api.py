"""Staff-only JSON API for catalog rebuilds: the admin page's buttons and table, for scripts.

Authentication: the admin's session (browser, with the CSRF token DRF demands for session
writes) or HTTP Basic with a staff user's credentials (scripts: ``curl -u user:pass``; only
over HTTPS in production). Anonymous callers get 401, authenticated non-staff 403, both with an
``errors`` object.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import job_records, jobs
from storefront.api import ApiError
from storefront.schema import ErrorBody
from storefront.stafflogin import StaffBasicAuthentication

# Every staff call may be refused: 401 without credentials, 403 for a non-staff user, 429
# past the staff login limit (storefront/stafflogin.py).
AUTH_ERRORS = {401: ErrorBody, 403: ErrorBody, 429: ErrorBody}


class RebuildRequest(serializers.Serializer[dict[str, str]]):
    market = serializers.RegexField(
        r"^[A-Za-z0-9_.-]{1,64}\Z", required=False, help_text="one market; all when left out"
    )


class StaffApiView(APIView):
    # Basic first: its WWW-Authenticate challenge is what turns "not logged in" into a 401.
    authentication_classes = [StaffBasicAuthentication, SessionAuthentication]
    permission_classes = [IsAdminUser]


class RebuildView(StaffApiView):
    @extend_schema(
        request=RebuildRequest,
        responses={
            202: inline_serializer(
                "RebuildStarted",
                {
                    "jobs": inline_serializer(
                        "RebuildJobRef",
                        {"job": serializers.CharField(), "market": serializers.CharField()},
                        many=True,
                    )
                },
            ),
            400: ErrorBody,
            **AUTH_ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        """Queue a full rebuild of one market, or of every market. A market whose rebuild is
        already queued or running answers with that job's id instead of queueing another."""
        body = RebuildRequest(data=request.data or {})
        body.is_valid(raise_exception=True)
        market = body.validated_data.get("market")
        reason = f"api ({getattr(request.user, 'username', 'staff')})"
        if market is None:
            started = jobs.rebuild_all(reason=reason)
        else:
            if market not in jobs.known_markets():
                raise ApiError(400, {"market": "unknown market"})
            started = [(market, jobs.enqueue_rebuild(market=market, reason=reason)[0])]
        return Response(
            {"jobs": [{"job": job_id, "market": m} for m, job_id in started]},
            status=status.HTTP_202_ACCEPTED,
        )


class StatusView(StaffApiView):
    @extend_schema(responses={200: dict, **AUTH_ERRORS})
    def get(self, request: Request) -> Response:
        """Per market: the live generation (products, categories, built at, build time) and
        the latest job with its progress; then every job still queued or running."""
        return Response(jobs.catalog_status())


class JobView(StaffApiView):
    @extend_schema(responses={200: dict, 404: ErrorBody, **AUTH_ERRORS})
    def get(self, request: Request, job_id: str) -> Response:
        """One job's state and progress (pages done / total)."""
        job = job_records.job_get(job_id=job_id)
        if job is None:
            raise ApiError(404, {"job": "not found"})
        return Response(job_records.job_json(job))
