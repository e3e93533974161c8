"""The insurance service (社会保险): enrolment, contributions and arrears, unemployment benefit, retirees under
community management, death and survivor claims, the flexible-employment subsidy (docs/design.md, "Insurance")."""
