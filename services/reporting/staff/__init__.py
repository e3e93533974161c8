"""The monthly evaluation of the service network's staff (绩效考核, issue 19): what each event credits to whom
(``credit``), the read model and its consumer (``projection``, ``worker``), the scoring and ranking
(``scoring``, ``evaluation``), the settings, the API and the XLSX (docs/adr/0005-staff-performance-model.md;
docs/rules.md, "Staff performance")."""
