"""Experiments in Django admin: start one (a form), follow its results, stop it or promote its
winner (through the services, so every change is audited exactly as the API's)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from m6rec.online import selectors, services
from m6rec.online.errors import ExperimentError
from m6rec.online.models import Experiment


class ExperimentStartForm(forms.ModelForm):
    candidates = forms.CharField(
        help_text="Candidate version numbers, comma-separated (the active version is the control)."
    )
    shares = forms.CharField(
        required=False,
        help_text="Traffic share per arm, control first, comma-separated, summing to 1 "
        "(empty: equal shares).",
    )

    class Meta:
        model = Experiment
        fields = ["tenant", "name", "metric", "min_impressions_per_arm", "confidence"]

    def _numbers(self, name: str, cast):
        raw = self.cleaned_data.get(name) or ""
        try:
            return [cast(p) for p in raw.replace(" ", "").split(",") if p]
        except ValueError:
            raise forms.ValidationError({name: "Comma-separated numbers, please."}) from None

    def clean(self):
        data = super().clean()
        data["candidate_list"] = self._numbers("candidates", int)
        data["share_list"] = self._numbers("shares", float) or None
        return data


def _results_table(experiment: Experiment) -> str:
    results = selectors.experiment_results(experiment=experiment)
    rate_key = "conversion_rate" if results["metric"] == "conversion" else "ctr"

    def vs_control(arm) -> str:
        c = arm["vs_control"]
        if c is None:
            return "—"
        return f"{c['difference']:+.2%} [{c['low']:+.2%}, {c['high']:+.2%}], p = {c['p_value']:.3g}"

    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>v{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                "control" if a["arm"] == 0 else a["arm"],
                a["version"],
                f"{a['share']:.0%}",
                a["impressions"],
                a["clicks"],
                a["conversions"],
                f"{a[rate_key]['rate']:.2%} [{a[rate_key]['low']:.2%}, {a[rate_key]['high']:.2%}]",
                vs_control(a),
                a["ended"] or "",
            )
            for a in results["arms"]
        ),
    )
    decision = results["decision"]
    return format_html(
        '<table class="m6rec-experiment-results"><thead><tr><th>arm</th><th>version</th>'
        "<th>share</th><th>impressions</th><th>clicks</th><th>conversions</th>"
        "<th>{} (95%)</th><th>vs control</th><th>ended</th></tr></thead><tbody>{}</tbody>"
        "</table><p><strong>{}</strong>: {}</p>",
        results["metric"],
        rows,
        decision["status"],
        decision["explanation"],
    )


@admin.register(Experiment)
class ExperimentAdmin(admin.ModelAdmin):
    list_display = ("id", "tenant", "name", "status", "arms_summary", "decision", "created_at")
    list_filter = ("tenant", "status")
    search_fields = ("name", "tenant__slug")
    list_select_related = ("tenant",)
    actions = ["stop_selected", "promote_winner_selected"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ExperimentStartForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return [
                "tenant",
                "name",
                "candidates",
                "shares",
                "metric",
                "min_impressions_per_arm",
                "confidence",
            ]
        return [
            "tenant",
            "name",
            "status",
            "arms_summary",
            "results",
            "created_by",
            "created_at",
            "stopped_at",
            "stop_reason",
        ]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.get_fields(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # results and audit entries refer to it

    def save_model(self, request, obj, form, change):
        if change:
            return
        data = form.cleaned_data
        try:
            created = services.experiment_start(
                tenant=data["tenant"],
                name=data["name"],
                candidates=data["candidate_list"],
                shares=data["share_list"],
                metric=data["metric"],
                min_impressions_per_arm=data["min_impressions_per_arm"],
                confidence=data["confidence"],
                actor=request.user,
            )
        except ExperimentError as exc:
            details = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.details.items())
            raise forms.ValidationError(f"{exc.message} {details}".strip()) from None
        obj.pk = created.pk

    def add_view(self, request, form_url="", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except forms.ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            from django.shortcuts import redirect

            return redirect(request.path)

    @admin.display(description="arms")
    def arms_summary(self, obj: Experiment) -> str:
        return ", ".join(
            f"v{a['version']} {a['share']:.0%}" + (" (ended)" if a.get("ended") else "")
            for a in obj.arms
        )

    @admin.display(description="decision")
    def decision(self, obj: Experiment) -> str:
        d = selectors.experiment_results(experiment=obj)["decision"]
        return d["status"] + (f": v{d['winner_version']}" if d["winner_version"] else "")

    @admin.display(description="results")
    def results(self, obj: Experiment) -> str:
        return _results_table(obj)

    @admin.action(description="Stop the selected experiments (audited)")
    def stop_selected(self, request, queryset):
        for experiment in queryset:
            try:
                services.experiment_stop(
                    tenant=experiment.tenant,
                    experiment_id=experiment.pk,
                    actor=request.user,
                    reason="Django admin action",
                )
            except ExperimentError as exc:
                self.message_user(request, f"{experiment}: {exc.message}", messages.ERROR)
                continue
            self.message_user(request, f"{experiment} stopped.")

    @admin.action(description="Stop and promote the winner (audited)")
    def promote_winner_selected(self, request, queryset):
        for experiment in queryset:
            try:
                version = services.experiment_promote_winner(
                    tenant=experiment.tenant, experiment_id=experiment.pk, actor=request.user
                )
            except ExperimentError as exc:
                self.message_user(request, f"{experiment}: {exc.message}", messages.ERROR)
                continue
            self.message_user(request, f"{experiment}: v{version.number} is now active.")
