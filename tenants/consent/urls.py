from django.urls import path

from tenants.consent import views

app_name = "consent"

urlpatterns = [
    path("callback/", views.callback, name="callback"),
    path("done/", views.done, name="done"),
    path("<str:token>/", views.start, name="start"),
]
