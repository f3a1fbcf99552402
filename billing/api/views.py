"""Billing endpoints. Scoping is the base viewset's (`visible_to`); writes go through the
services; MSP-only except usage alerts, which customer admins manage for their tenant."""

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from billing import documents, services
from billing.api import serializers
from billing.api.renderers import CSVRenderer, PDFRenderer
from billing.filters import (
    CreditNoteFilter,
    InvoiceFilter,
    PlanFilter,
    SubscriptionFilter,
    UsageAlertFilter,
    UsageRecordFilter,
)
from billing.models import CreditNote, Invoice, Plan, Subscription, UsageAlert, UsageRecord
from billing.selectors import usage_aggregates
from portal.api.viewsets import (
    ScopedCreateReadViewSet,
    ScopedModelViewSet,
    ScopedReadOnlyViewSet,
    ScopedViewSetMixin,
)


def _file(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class PlanViewSet(ScopedModelViewSet):
    """The MSP's price lists. MSP billing staff create and change them; customers read the
    plans their tenant is (or was) on."""

    queryset = Plan.objects.prefetch_related("prices")
    serializer_class = serializers.PlanSerializer
    filterset_class = PlanFilter
    ordering_fields = ["name", "created_at"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_serializer_class(self):
        if self.action == "partial_update":
            return serializers.PlanUpdateSerializer
        return super().get_serializer_class()

    def tenant_id_of(self, obj):
        return None  # plans belong to the MSP, not to a tenant

    def perform_create(self, serializer):
        serializer.instance = services.plan_create(by=self.principal, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.plan_update(
            by=self.principal, plan=serializer.instance, **serializer.validated_data
        )


class SubscriptionViewSet(ScopedModelViewSet):
    """Which tenant is on which plan, when: `[starts_on, ends_on)`, never overlapping. A
    plan change is PATCH `ends_on` on the current one, then POST the next from that day."""

    queryset = Subscription.objects.select_related("plan")
    serializer_class = serializers.SubscriptionSerializer
    filterset_class = SubscriptionFilter
    ordering_fields = ["starts_on", "created_at"]

    def perform_create(self, serializer):
        serializer.instance = services.subscription_create(
            by=self.principal, now=timezone.now(), **serializer.validated_data
        )

    @extend_schema(request=serializers.SubscriptionUpdateSerializer)
    def partial_update(self, request, *args, **kwargs):
        subscription = self.get_object()
        body = serializers.SubscriptionUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        subscription = services.subscription_end(
            by=self.principal,
            subscription=subscription,
            ends_on=body.validated_data["ends_on"],
            now=timezone.now(),
        )
        return Response(self.get_serializer(subscription).data)

    def perform_destroy(self, instance):
        services.subscription_delete(by=self.principal, subscription=instance, now=timezone.now())


class UsageRecordViewSet(ScopedReadOnlyViewSet):
    """Daily usage records (one per tenant, workload and day) and their aggregates."""

    queryset = UsageRecord.objects.all()
    serializer_class = serializers.UsageRecordSerializer
    filterset_class = UsageRecordFilter
    ordering = ("-day", "-id")
    ordering_fields = ["day"]
    customer_actions = ("list", "retrieve", "aggregates")

    @extend_schema(
        parameters=[serializers.UsageAggregateQuerySerializer],
        responses=serializers.UsageAggregateSerializer(many=True),
    )
    @action(detail=False, methods=["get"], filterset_class=None, pagination_class=None)
    def aggregates(self, request):
        """Per tenant and workload over one month: GB-month (daily average), peak GB and
        the last recorded day's GB."""
        query = serializers.UsageAggregateQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        month = query.validated_data["month"]
        records = self.get_queryset()
        if "tenant" in query.validated_data:
            records = records.filter(tenant_id=query.validated_data["tenant"])
        if "workload" in query.validated_data:
            records = records.filter(workload=query.validated_data["workload"])
        rows = usage_aggregates(records=records, period=month)
        return Response(serializers.UsageAggregateSerializer(rows, many=True).data)


class InvoiceViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Monthly invoices. Customers see theirs once finalized and download them; MSP billing
    staff finalize, void and mark them paid. A finalized invoice never changes."""

    queryset = Invoice.objects.select_related("tenant")
    serializer_class = serializers.InvoiceSerializer
    filterset_class = InvoiceFilter
    ordering = ("-period_start", "-id")
    ordering_fields = ["period_start", "created_at", "total_minor"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    customer_actions = ("list", "retrieve", "pdf", "csv", "export")
    action_permissions = {
        "finalize": "billing.change_invoice",
        "void": "billing.change_invoice",
        "mark_paid": "billing.change_invoice",
    }

    def get_serializer_class(self):
        if self.action == "retrieve":
            return serializers.InvoiceDetailSerializer
        return super().get_serializer_class()

    @extend_schema(request=serializers.InvoiceUpdateSerializer)
    def partial_update(self, request, *args, **kwargs):
        invoice = self.get_object()
        body = serializers.InvoiceUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        invoice = services.invoice_update(
            by=self.principal, invoice=invoice, now=timezone.now(), **body.validated_data
        )
        return Response(self.get_serializer(invoice).data)

    @extend_schema(request=None, responses=serializers.InvoiceSerializer)
    @action(detail=True, methods=["post"])
    def finalize(self, request, pk=None):
        invoice = services.invoice_finalize(
            by=self.principal, invoice=self.get_object(), now=timezone.now()
        )
        return Response(serializers.InvoiceSerializer(invoice).data)

    @extend_schema(
        request=serializers.InvoiceVoidSerializer, responses=serializers.InvoiceSerializer
    )
    @action(detail=True, methods=["post"])
    def void(self, request, pk=None):
        invoice = self.get_object()
        body = serializers.InvoiceVoidSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        invoice = services.invoice_void(
            by=self.principal, invoice=invoice, now=timezone.now(), **body.validated_data
        )
        return Response(serializers.InvoiceSerializer(invoice).data)

    @extend_schema(
        request=serializers.InvoiceMarkPaidSerializer, responses=serializers.InvoiceSerializer
    )
    @action(detail=True, methods=["post"], url_path="mark-paid")
    def mark_paid(self, request, pk=None):
        invoice = self.get_object()
        body = serializers.InvoiceMarkPaidSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        invoice = services.invoice_mark_paid(
            by=self.principal, invoice=invoice, now=timezone.now(), **body.validated_data
        )
        return Response(serializers.InvoiceSerializer(invoice).data)

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, PDFRenderer])
    def pdf(self, request, pk=None):
        """The invoice as a PDF, with the daily figures behind each line."""
        invoice = self.get_object()
        invoice = documents.invoices_for_documents(Invoice.objects.filter(pk=invoice.pk)).get()
        return _file(
            documents.invoice_pdf(invoice),
            "application/pdf",
            documents.invoice_filename(invoice, "pdf"),
        )

    @extend_schema(
        parameters=[serializers.InvoiceCsvQuerySerializer],
        responses={(200, "text/csv"): OpenApiTypes.BINARY},
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, CSVRenderer])
    def csv(self, request, pk=None):
        """The invoice as CSV: one row per line (`?days=true`: per line and day)."""
        invoice = self.get_object()
        query = serializers.InvoiceCsvQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        invoices = documents.invoices_for_documents(Invoice.objects.filter(pk=invoice.pk))
        rows = (
            documents.invoice_day_rows(invoices)
            if query.validated_data["days"]
            else documents.invoice_csv_rows(invoices)
        )
        return _file(
            documents.csv_bytes(rows),
            "text/csv; charset=utf-8",
            documents.invoice_filename(invoice, "csv"),
        )

    @extend_schema(
        parameters=[
            serializers.InvoiceExportQuerySerializer,
            OpenApiParameter("status", OpenApiTypes.STR, many=True, required=False),
            OpenApiParameter("tenant", OpenApiTypes.INT, required=False),
        ],
        responses={(200, "text/csv"): OpenApiTypes.BINARY},
    )
    @action(
        detail=False,
        methods=["get"],
        renderer_classes=[JSONRenderer, CSVRenderer],
        filterset_class=InvoiceFilter,
        pagination_class=None,
    )
    def export(self, request):
        """Every invoice of a month you may see, for accounting or a PSA import: one row per
        invoice line, the invoice's columns repeated. Drafts are left out unless asked for
        with `?status=draft`."""
        query = serializers.InvoiceExportQuerySerializer(
            data={k: v for k, v in request.query_params.items() if k in ("period", "days")}
        )
        query.is_valid(raise_exception=True)
        month = query.validated_data["period"]
        invoices = self.filter_queryset(self.get_queryset()).filter(period_start=month.start)
        if "status" not in request.query_params:
            invoices = invoices.exclude(status="draft")
        invoices = documents.invoices_for_documents(invoices.order_by("number", "tenant_id"))
        rows = (
            documents.invoice_day_rows(invoices)
            if query.validated_data["days"]
            else documents.invoice_csv_rows(invoices)
        )
        return _file(
            documents.csv_bytes(rows), "text/csv; charset=utf-8", f"invoices-{month.label}.csv"
        )


class CreditNoteViewSet(ScopedCreateReadViewSet):
    """Credit notes against finalized or paid invoices (MSP billing staff issue them; never
    more than remains creditable). Customers read theirs."""

    queryset = CreditNote.objects.select_related("invoice")
    serializer_class = serializers.CreditNoteSerializer
    filterset_class = CreditNoteFilter
    ordering_fields = ["created_at"]

    def perform_create(self, serializer):
        serializer.instance = services.credit_note_create(
            by=self.principal, now=timezone.now(), **serializer.validated_data
        )


class UsageAlertViewSet(ScopedModelViewSet):
    """Alerts a tenant sets on its usage or charges: one e-mail per alert and month.
    Customer admins manage their own tenant's; viewers read them."""

    queryset = UsageAlert.objects.prefetch_related("notices")
    serializer_class = serializers.UsageAlertSerializer
    filterset_class = UsageAlertFilter
    ordering_fields = ["created_at"]
    customer_actions = ("list", "retrieve", "create", "partial_update", "destroy")

    @extend_schema(
        request=serializers.UsageAlertCreateSerializer,
        responses={201: serializers.UsageAlertSerializer},
    )
    def create(self, request, *args, **kwargs):
        body = serializers.UsageAlertCreateSerializer(
            data=request.data, context={"request": request}
        )
        body.is_valid(raise_exception=True)
        tenant = body.validated_data.pop("tenant")
        if not self.principal.can_write_tenant(tenant.pk):
            raise NotFound()
        alert = services.usage_alert_create(
            by=self.principal, tenant=tenant, now=timezone.now(), **body.validated_data
        )
        return Response(self.get_serializer(alert).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=serializers.UsageAlertUpdateSerializer, responses=serializers.UsageAlertSerializer
    )
    def partial_update(self, request, *args, **kwargs):
        alert = self.get_object()
        body = serializers.UsageAlertUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        alert = services.usage_alert_update(
            by=self.principal, alert=alert, now=timezone.now(), **body.validated_data
        )
        return Response(self.get_serializer(alert).data)

    def perform_destroy(self, instance):
        services.usage_alert_delete(by=self.principal, alert=instance, now=timezone.now())
