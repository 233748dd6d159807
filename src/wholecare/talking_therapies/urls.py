from django.urls import path

from wholecare.talking_therapies import views

app_name = "talking_therapies"

urlpatterns = [
    path("", views.home, name="home"),
    path("caseload/", views.caseload, name="caseload"),
    path("overview/", views.overview, name="overview"),
    path("case-finding/", views.case_finding, name="case-finding"),
    path("people/<uuid:public_id>/", views.person, name="person"),
    path("people/<uuid:public_id>/refer/", views.refer, name="refer"),
    path(
        "people/<uuid:public_id>/referrals/<int:referral_id>/start/",
        views.referral_start,
        name="referral-start",
    ),
    path("people/<uuid:public_id>/screen/", views.screen, name="screen"),
    path("people/<uuid:public_id>/invite/", views.invite, name="invite"),
    path("people/<uuid:public_id>/markers/", views.marker, name="marker"),
    path("referrals/<uuid:public_id>/", views.referral, name="referral"),
    path(
        "referrals/<uuid:public_id>/descriptor/",
        views.referral_descriptor,
        name="referral-descriptor",
    ),
    path(
        "referrals/<uuid:public_id>/conditions/",
        views.referral_conditions,
        name="referral-conditions",
    ),
    path("referrals/<uuid:public_id>/step/", views.referral_step, name="referral-step"),
    path("referrals/<uuid:public_id>/contacts/", views.referral_contact, name="referral-contact"),
    path(
        "referrals/<uuid:public_id>/measures/<str:code>/",
        views.referral_measures,
        name="referral-measures",
    ),
    path("referrals/<uuid:public_id>/invite/", views.referral_invite, name="referral-invite"),
    path(
        "referrals/<uuid:public_id>/discharge/",
        views.referral_discharge,
        name="referral-discharge",
    ),
    path("contacts/<int:pk>/kind/", views.contact_kind, name="contact-kind"),
    path("risks/<int:pk>/review/", views.risk_review, name="risk-review"),
    path("self-referrals/<int:pk>/", views.self_referral, name="self-referral"),
    path("services/<int:pk>/waiting-list/", views.waiting_list, name="waiting-list"),
    path("services/<int:pk>/dashboard/", views.dashboard, name="dashboard"),
    path("services/<int:pk>/export/", views.export, name="export"),
    path("public/self-referral/", views.public_self_referral, name="public-self-referral"),
    path("public/questionnaire/", views.public_questionnaire, name="public-questionnaire"),
]
