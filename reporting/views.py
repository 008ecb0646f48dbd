from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from . import selectors


@login_required
def filing_list(request):
    filings = selectors.filings_for_user(request.user).order_by("-period__year", "-period__month")[:200]
    return render(request, "reporting/list.html", {"filings": filings})
