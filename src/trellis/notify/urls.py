from django.urls import path

from trellis.notify import views

app_name = "notify"

urlpatterns = [
    path("", views.outbox, name="outbox"),
    path("<int:message_id>/retry/", views.retry, name="retry"),
]
