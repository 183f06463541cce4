from django.urls import path, register_converter

from trellis.guides import views


class LanguageConverter:
    regex = "en|es"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(LanguageConverter, "guide_lang")

app_name = "guides"

urlpatterns = [
    # The patient's own pages, through their check-in link.
    path("c/<str:token>/", views.patient_guide, name="patient_guide"),
    path("c/<str:token>/family/", views.family_page, name="family_page"),
    path("c/<str:token>/questions/", views.teach_back, name="teach_back"),
    # Staff.
    path("", views.library, name="library"),
    path("answers/<int:teach_back_id>/discussed/", views.discussed, name="discussed"),
    path("<slug:guide_id>/<guide_lang:language>/", views.show, name="show"),
    path("<slug:guide_id>/<guide_lang:language>/adapt/", views.adapt, name="adapt"),
]
