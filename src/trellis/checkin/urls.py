from django.urls import path

from trellis.checkin import views

app_name = "checkin"

urlpatterns = [path("<str:token>/", views.checkin_home, name="home")]
