"""One error format for the whole API:

    {"status": 400, "code": "invalid", "message": "...", "errors": {"field": ["..."]}}

`errors` is present only for input errors. Domain errors from services, integrity conflicts
and Django's 404 all come out in this shape; nothing reaches the client as an HTML 500.
"""

import logging

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from tenants.exceptions import DomainError

logger = logging.getLogger(__name__)


def error_body(status_code: int, code: str, message: str, errors=None) -> dict:
    body = {"status": status_code, "code": code, "message": message}
    if errors:
        body["errors"] = errors
    return body


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        errors = {exc.field: [exc.message]} if exc.field else None
        return Response(error_body(exc.status, exc.code, exc.message, errors), status=exc.status)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    if isinstance(exc, IntegrityError):
        logger.warning("integrity conflict answered as 409: %s", exc.__class__.__name__)
        return Response(
            error_body(409, "conflict", "This change conflicts with existing data."),
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = _field_errors(exc.detail)
        response.data = error_body(
            response.status_code, "invalid", _first_message(errors) or "Invalid input.", errors
        )
    else:
        detail = getattr(exc, "detail", "")
        code = detail.code if hasattr(detail, "code") else getattr(exc, "default_code", "error")
        response.data = error_body(response.status_code, str(code), str(detail))
    return response


def _field_errors(detail) -> dict:
    if isinstance(detail, list):
        return {"non_field_errors": [str(item) for item in _flatten(detail)]}
    if isinstance(detail, dict):
        return {
            field: [str(item) for item in _flatten(value)]
            if isinstance(value, list | str)
            else _field_errors(value)
            for field, value in detail.items()
        }
    return {"non_field_errors": [str(detail)]}


def _flatten(value):
    if isinstance(value, list):
        for item in value:
            yield from _flatten(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _flatten(item)
    else:
        yield value


def _first_message(errors: dict) -> str:
    for field, messages in errors.items():
        if isinstance(messages, list) and messages:
            prefix = "" if field == "non_field_errors" else f"{field}: "
            return f"{prefix}{messages[0]}"
        if isinstance(messages, dict):
            nested = _first_message(messages)
            if nested:
                return f"{field}.{nested}"
    return ""


def api_not_found(request, exception=None):
    return JsonResponse(error_body(404, "not_found", "Not found."), status=404)


def api_server_error(request):
    return JsonResponse(
        error_body(500, "server_error", "Something went wrong on our side; it has been logged."),
        status=500,
    )
