"""Renderers for the file downloads. Success answers are built by the views themselves;
these exist so that content negotiation accepts `Accept: application/pdf` / `text/csv`
and the schema lists the media types. An error on those routes is rendered as JSON text."""

import json

from rest_framework.renderers import BaseRenderer


class _FileRenderer(BaseRenderer):
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        return json.dumps(data).encode()


class PDFRenderer(_FileRenderer):
    media_type = "application/pdf"
    format = "pdf"


class CSVRenderer(_FileRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"
