"""The web pages for results waiting to be filed (`unfiled`): the list, and filing one on a
person's record after checking it is the right person."""

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from wholecare.access.permissions import staff_of
from wholecare.fhir import unfiled
from wholecare.fhir.errors import FhirError
from wholecare.record import selectors
from wholecare.web.forms import NHSNumberField, posted
from wholecare.web.types import AuthenticatedHttpRequest


class FileResultForm(forms.Form):
    nhs_number = NHSNumberField(
        error_messages={"required": "Enter the NHS number of the person the result is about"}
    )
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


@require_GET
def waiting_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    staff = staff_of(request.user)
    return render(request, "results/waiting.html", {"results": unfiled.waiting(staff)})


@require_http_methods(["GET", "POST"])
def file_result(request: AuthenticatedHttpRequest, fhir_id: str) -> HttpResponse:
    """Step one: the NHS number. Step two (`confirm` absent): the person it finds, to check.
    Step three (`confirm=yes`): filed, as a FHIR update by the signed-in member of staff."""
    staff = staff_of(request.user)
    result = unfiled.waiting_one(staff, fhir_id)
    if result is None:
        raise Http404("No result of yours with this id is waiting to be filed")
    form = FileResultForm(posted(request), initial={"version": result.version})
    person = None
    if request.method == "POST" and form.is_valid():
        found = selectors.find_people(
            by=request.user, nhs_number_text=form.cleaned_data["nhs_number"]
        )
        if not found:
            form.add_error(
                "nhs_number",
                "No one on Wholecare has this NHS number: check it, or ask for the person to be"
                " registered",
            )
        elif request.POST.get("confirm") != "yes":
            person = found[0].person
        else:
            try:
                unfiled.file(staff, fhir_id, form.cleaned_data["version"], found[0].person)
            except FhirError as error:
                form.add_error(None, f"The result was not filed. {error}")
            else:
                messages.success(
                    request,
                    f"{result.what} has been filed on the record of {found[0].person.full_name}",
                )
                return redirect("results:waiting")
    return render(request, "results/file.html", {"result": result, "form": form, "person": person})
