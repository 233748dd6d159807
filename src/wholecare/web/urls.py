from django.contrib.auth import views as auth_views
from django.urls import path

from wholecare.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("sign-in/", views.SignInView.as_view(), name="sign-in"),
    path("sign-out/", auth_views.LogoutView.as_view(), name="sign-out"),
    path("health/", views.health, name="health"),
    path("caseload/", views.caseload, name="caseload"),
    path("referrals/", views.referrals_received, name="referrals-received"),
    path("people/find/", views.find_person, name="find-person"),
    path("medication-reviews/", views.medication_reviews, name="medication-reviews"),
    path("people/<uuid:public_id>/", views.person_summary, name="person"),
    path("people/<uuid:public_id>/timeline/", views.person_timeline, name="person-timeline"),
    path("people/<uuid:public_id>/break-glass/", views.break_glass, name="break-glass"),
    path("people/<uuid:public_id>/entries/new/", views.entry_new, name="entry-new"),
    path(
        "people/<uuid:public_id>/entries/<int:entry_id>/entered-in-error/",
        views.entry_entered_in_error,
        name="entry-entered-in-error",
    ),
    path(
        "people/<uuid:public_id>/entries/<int:entry_id>/person-access/",
        views.entry_person_access,
        name="entry-person-access",
    ),
    path(
        "people/<uuid:public_id>/notes-online/",
        views.person_notes_online,
        name="person-notes-online",
    ),
    path("people/<uuid:public_id>/proxies/", views.person_proxies, name="person-proxies"),
    path(
        "people/<uuid:public_id>/proxies/<int:proxy_id>/end/",
        views.person_proxy_end,
        name="person-proxy-end",
    ),
    path("people/<uuid:public_id>/identity/", views.person_identity, name="person-identity"),
    path("people/<uuid:public_id>/conditions/new/", views.condition_new, name="condition-new"),
    path(
        "people/<uuid:public_id>/conditions/<int:condition_id>/status/",
        views.condition_status,
        name="condition-status",
    ),
    path(
        "people/<uuid:public_id>/conditions/<int:condition_id>/entered-in-error/",
        views.condition_entered_in_error,
        name="condition-entered-in-error",
    ),
    path("people/<uuid:public_id>/needs/new/", views.need_new, name="need-new"),
    path(
        "people/<uuid:public_id>/needs/<int:need_id>/status/",
        views.need_status,
        name="need-status",
    ),
    path("people/<uuid:public_id>/alerts/new/", views.alert_new, name="alert-new"),
    path(
        "people/<uuid:public_id>/alerts/<int:alert_id>/end/",
        views.alert_end,
        name="alert-end",
    ),
    path("people/<uuid:public_id>/care-team/add/", views.care_team_add, name="care-team-add"),
    path(
        "people/<uuid:public_id>/care-team/<int:membership_id>/end/",
        views.care_team_end,
        name="care-team-end",
    ),
    path("people/<uuid:public_id>/referrals/new/", views.referral_new, name="referral-new"),
    path(
        "people/<uuid:public_id>/referrals/<int:referral_id>/accept/",
        views.referral_accept,
        name="referral-accept",
    ),
    path(
        "people/<uuid:public_id>/referrals/<int:referral_id>/close/",
        views.referral_close,
        name="referral-close",
    ),
    path(
        "people/<uuid:public_id>/medicines/review/",
        views.medication_review,
        name="medication-review",
    ),
    path(
        "people/<uuid:public_id>/medicines/reconcile/",
        views.medicines_reconcile,
        name="medicines-reconcile",
    ),
    path(
        "people/<uuid:public_id>/medicines/requests/<uuid:request_id>/",
        views.prescriber_request,
        name="prescriber-request",
    ),
    path(
        "people/<uuid:public_id>/medicines/requests/<uuid:request_id>/withdraw/",
        views.prescriber_request_withdraw,
        name="prescriber-request-withdraw",
    ),
    path("people/<uuid:public_id>/care-plans/new/", views.care_plan_new, name="care-plan-new"),
    path(
        "people/<uuid:public_id>/care-plans/<uuid:plan_id>/",
        views.care_plan_change,
        name="care-plan-change",
    ),
    path(
        "people/<uuid:public_id>/care-plans/<uuid:plan_id>/end/",
        views.care_plan_end,
        name="care-plan-end",
    ),
    path("people/<uuid:public_id>/contact/", views.person_contact, name="person-contact"),
    path("people/<uuid:public_id>/export/", views.person_export, name="person-export"),
    path("people/<uuid:public_id>/access-history/", views.person_audit, name="person-audit"),
    path("people/<uuid:public_id>/sharing/", views.person_sharing, name="person-sharing"),
    path("audit/mine/", views.my_audit, name="my-audit"),
    path("audit/break-glass/", views.review_queue, name="review-queue"),
    path("audit/break-glass/<int:pk>/", views.review, name="review"),
    path("my-record/access/", views.my_record_access, name="my-record-access"),
    path("my-record/", views.my_record, name="my-record"),
    path("my-record/notes/", views.my_notes, name="my-notes"),
    path("my-record/proxies/", views.my_proxies, name="my-proxies"),
    path("helping/", views.people_i_help, name="people-i-help"),
    path("helping/<uuid:public_id>/", views.proxy_record, name="proxy-record"),
    path("helping/<uuid:public_id>/notes/", views.proxy_notes, name="proxy-notes"),
    path("helping/<uuid:public_id>/stop/", views.proxy_stop, name="proxy-stop"),
    path("my-record/care-plans/", views.my_care_plans, name="my-care-plans"),
    path(
        "my-record/care-plans/<uuid:plan_id>/progress/",
        views.my_care_plan_progress,
        name="my-care-plan-progress",
    ),
    path("my-record/sharing/", views.my_record_sharing, name="my-record-sharing"),
    path("my-record/contact/", views.my_contact, name="my-contact"),
    path("figures/", views.population_figures, name="aggregates"),
]
