from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.api import ErrorSerializer

from .access import visible_institutions
from .models import Institution


class InstitutionSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    group_label = serializers.CharField(source="get_evaluation_group_display", read_only=True)

    class Meta:
        model = Institution
        fields = [
            "id",
            "code",
            "name",
            "short_name",
            "kind",
            "kind_label",
            "is_local_legal_person",
            "evaluation_group",
            "group_label",
        ]


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    display_name = serializers.CharField()
    role = serializers.CharField()
    institution = InstitutionSerializer(allow_null=True)
    office = serializers.CharField(source="office.name", allow_null=True, default=None)


class MeView(APIView):
    """The authenticated user: role and affiliation."""

    serializer_class = MeSerializer

    def get(self, request):
        return Response(MeSerializer(request.user).data)


@extend_schema_view(
    get=extend_schema(
        responses={
            200: InstitutionSerializer(many=True),
            400: OpenApiResponse(ErrorSerializer, description="分页参数 limit / offset 有误。"),
        }
    )
)
class InstitutionList(generics.ListAPIView):
    """Institutions the caller may see (a bank: itself; an officer: the jurisdiction)."""

    serializer_class = InstitutionSerializer

    def get_queryset(self):
        return visible_institutions(self.request.user).select_related("supervising_office")
