from django.urls import path

from trellis.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login, name="login"),
    path("otp/", views.otp, name="otp"),
    path("otp/setup/", views.otp_setup, name="otp_setup"),
    path("logout/", views.logout, name="logout"),
    path("program/", views.switch_program, name="switch_program"),
]
