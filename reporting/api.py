from rest_framework import generics, serializers

from .models import Period


class PeriodSerializer(serializers.ModelSerializer):
    label = serializers.CharField(read_only=True)

    class Meta:
        model = Period
        fields = ["id", "form", "year", "month", "label", "ends_on", "opens_on", "due_on", "closes_on"]


class PeriodList(generics.ListAPIView):
    """Reporting periods with their deadlines."""

    serializer_class = PeriodSerializer
    queryset = Period.objects.all()
