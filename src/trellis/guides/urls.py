from django.urls import path

from trellis.guides import views

app_name = "guides"

urlpatterns = [
    # The patient's own pages, through their check-in link (before the staff patterns, which
    # would otherwise read "c" as a guide id).
    path("c/<str:token>/", views.patient_guide, name="patient_guide"),
    path("c/<str:token>/family/", views.family_page, name="family_page"),
    path("c/<str:token>/questions/", views.teach_back, name="teach_back"),
    # Staff (an unknown guide or language answers 404 in the view).
    path("", views.library, name="library"),
    path("answers/<int:teach_back_id>/discussed/", views.discussed, name="discussed"),
    path("<slug:guide_id>/<str:language>/", views.show, name="show"),
    path("<slug:guide_id>/<str:language>/adapt/", views.adapt, name="adapt"),
]
