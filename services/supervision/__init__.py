"""Labour-security supervision (劳动保障监察) and labour-dispute mediation (劳动争议调解).

Complaints and cases on the official working-day calendar, grid inspection, mediation and arbitration,
petitions, and the employer compliance rating (docs/design.md, "Supervision"; docs/rules.md, "Supervision").
"""
