"""The email set every organisation starts with, in Dutch, English, German and Spanish.

These are the organisation's own texts from then on (editable in the admin), so they are data here,
not gettext messages.
"""

DEFAULT_EMAIL_TEXTS = {
    "confirmation": {
        "nl": ("Uw videoconsult op *|appointment_date|* om *|appointment_time|*",
               "Beste *|client_name|*,\n\nU heeft een videoconsult met *|appointment_welcome_from|* op "
               "*|appointment_date|* om *|appointment_time|*.\n\n*|personal_message|*\n\nOpen op dat moment deze "
               "persoonlijke link op uw telefoon of computer; u hoeft niets te installeren:\n*|consult_deeplink|*\n\n"
               "De link werkt vanaf een uur voor de afspraak. Deel hem met niemand.\n\n"
               "*|payment_text|*\n\nMet vriendelijke groet,\n"
               "*|organisation_name|*"),
        "en": ("Your video consultation on *|appointment_date|* at *|appointment_time|*",
               "Dear *|client_name|*,\n\nYou have a video consultation with *|appointment_welcome_from|* on "
               "*|appointment_date|* at *|appointment_time|*.\n\n*|personal_message|*\n\nAt that time, open this "
               "personal link on your phone or computer; you do not need to install anything:\n"
               "*|consult_deeplink|*\n\nThe link works from one hour before the appointment. Do not share it.\n\n"
               "*|payment_text|*\n\n"
               "Kind regards,\n*|organisation_name|*"),
        "de": ("Ihre Videosprechstunde am *|appointment_date|* um *|appointment_time|*",
               "Guten Tag *|client_name|*,\n\nSie haben eine Videosprechstunde bei *|appointment_welcome_from|* am "
               "*|appointment_date|* um *|appointment_time|*.\n\n*|personal_message|*\n\nÖffnen Sie zu diesem "
               "Zeitpunkt diesen persönlichen Link auf Ihrem Telefon oder Computer; Sie müssen nichts installieren:\n"
               "*|consult_deeplink|*\n\nDer Link funktioniert ab einer Stunde vor dem Termin. Geben Sie ihn nicht "
               "weiter.\n\n*|payment_text|*\n\nMit freundlichen Grüßen\n*|organisation_name|*"),
        "es": ("Su videoconsulta el *|appointment_date|* a las *|appointment_time|*",
               "Estimado/a *|client_name|*:\n\nTiene una videoconsulta con *|appointment_welcome_from|* el "
               "*|appointment_date|* a las *|appointment_time|*.\n\n*|personal_message|*\n\nA esa hora, abra este "
               "enlace personal en su teléfono u ordenador; no necesita instalar nada:\n*|consult_deeplink|*\n\n"
               "El enlace funciona desde una hora antes de la cita. No lo comparta.\n\n"
               "*|payment_text|*\n\nAtentamente,\n"
               "*|organisation_name|*"),
    },
    "reminder": {
        "nl": ("Herinnering: vandaag om *|appointment_time|* uw videoconsult",
               "Beste *|client_name|*,\n\nVandaag om *|appointment_time|* heeft u een videoconsult met "
               "*|appointment_welcome_from|*.\n\nOpen op tijd uw persoonlijke link:\n*|consult_deeplink|*\n\n"
               "*|payment_text|*\n\n"
               "Met vriendelijke groet,\n*|organisation_name|*"),
        "en": ("Reminder: your video consultation today at *|appointment_time|*",
               "Dear *|client_name|*,\n\nToday at *|appointment_time|* you have a video consultation with "
               "*|appointment_welcome_from|*.\n\nOpen your personal link in time:\n*|consult_deeplink|*\n\n"
               "*|payment_text|*\n\n"
               "Kind regards,\n*|organisation_name|*"),
        "de": ("Erinnerung: heute um *|appointment_time|* Ihre Videosprechstunde",
               "Guten Tag *|client_name|*,\n\nheute um *|appointment_time|* haben Sie eine Videosprechstunde bei "
               "*|appointment_welcome_from|*.\n\nÖffnen Sie rechtzeitig Ihren persönlichen Link:\n"
               "*|consult_deeplink|*\n\n*|payment_text|*\n\nMit freundlichen Grüßen\n*|organisation_name|*"),
        "es": ("Recordatorio: hoy a las *|appointment_time|* su videoconsulta",
               "Estimado/a *|client_name|*:\n\nHoy a las *|appointment_time|* tiene una videoconsulta con "
               "*|appointment_welcome_from|*.\n\nAbra su enlace personal a tiempo:\n*|consult_deeplink|*\n\n"
               "*|payment_text|*\n\n"
               "Atentamente,\n*|organisation_name|*"),
    },
    "reschedule": {
        "nl": ("Gewijzigd: uw videoconsult is nu op *|appointment_date|* om *|appointment_time|*",
               "Beste *|client_name|*,\n\nUw videoconsult met *|appointment_welcome_from|* is verplaatst naar "
               "*|appointment_date|* om *|appointment_time|*.\n\nGebruik vanaf nu deze nieuwe link; de oude werkt "
               "niet meer:\n*|consult_deeplink|*\n\n"
               "*|payment_text|*\n\nMet vriendelijke groet,\n*|organisation_name|*"),
        "en": ("Changed: your video consultation is now on *|appointment_date|* at *|appointment_time|*",
               "Dear *|client_name|*,\n\nYour video consultation with *|appointment_welcome_from|* has moved to "
               "*|appointment_date|* at *|appointment_time|*.\n\nFrom now on use this new link; the old one no "
               "longer works:\n*|consult_deeplink|*\n\n*|payment_text|*\n\nKind regards,\n*|organisation_name|*"),
        "de": ("Geändert: Ihre Videosprechstunde ist jetzt am *|appointment_date|* um *|appointment_time|*",
               "Guten Tag *|client_name|*,\n\nIhre Videosprechstunde bei *|appointment_welcome_from|* wurde auf "
               "*|appointment_date|* um *|appointment_time|* verschoben.\n\nBitte nutzen Sie ab jetzt diesen neuen "
               "Link; der alte funktioniert nicht mehr:\n*|consult_deeplink|*\n\n"
               "*|payment_text|*\n\nMit freundlichen Grüßen\n"
               "*|organisation_name|*"),
        "es": ("Cambio: su videoconsulta es ahora el *|appointment_date|* a las *|appointment_time|*",
               "Estimado/a *|client_name|*:\n\nSu videoconsulta con *|appointment_welcome_from|* se ha trasladado al "
               "*|appointment_date|* a las *|appointment_time|*.\n\nUse a partir de ahora este nuevo enlace; el "
               "anterior ya no funciona:\n*|consult_deeplink|*\n\n"
               "*|payment_text|*\n\nAtentamente,\n*|organisation_name|*"),
    },
    "cancellation": {
        "nl": ("Geannuleerd: uw videoconsult op *|appointment_date|*",
               "Beste *|client_name|*,\n\nUw videoconsult met *|appointment_welcome_from|* op *|appointment_date|* "
               "om *|appointment_time|* gaat niet door.\n\n*|personal_message|*\n\nNeem contact met ons op als u een "
               "nieuwe afspraak wilt maken.\n\n*|payment_text|*\n\nMet vriendelijke groet,\n*|organisation_name|*"),
        "en": ("Cancelled: your video consultation on *|appointment_date|*",
               "Dear *|client_name|*,\n\nYour video consultation with *|appointment_welcome_from|* on "
               "*|appointment_date|* at *|appointment_time|* has been cancelled.\n\n*|personal_message|*\n\n"
               "Please contact us if you would like a new appointment.\n\n"
               "*|payment_text|*\n\nKind regards,\n*|organisation_name|*"),
        "de": ("Abgesagt: Ihre Videosprechstunde am *|appointment_date|*",
               "Guten Tag *|client_name|*,\n\nIhre Videosprechstunde bei *|appointment_welcome_from|* am "
               "*|appointment_date|* um *|appointment_time|* wurde abgesagt.\n\n*|personal_message|*\n\nBitte "
               "melden Sie sich, wenn Sie einen neuen Termin möchten.\n\n*|payment_text|*\n\nMit freundlichen Grüßen\n"
               "*|organisation_name|*"),
        "es": ("Cancelada: su videoconsulta del *|appointment_date|*",
               "Estimado/a *|client_name|*:\n\nSu videoconsulta con *|appointment_welcome_from|* del "
               "*|appointment_date|* a las *|appointment_time|* ha sido cancelada.\n\n*|personal_message|*\n\n"
               "Póngase en contacto con nosotros si desea una nueva cita.\n\n"
               "*|payment_text|*\n\nAtentamente,\n*|organisation_name|*"),
    },
    "invitation": {
        "nl": ("Uitnodiging: videoconsult op *|appointment_date|* om *|appointment_time|*",
               "Beste *|client_name|*,\n\nU bent uitgenodigd om mee te doen aan een videoconsult met "
               "*|appointment_welcome_from|* op *|appointment_date|* om *|appointment_time|*.\n\nU kunt binnenkomen "
               "zodra de cliënt aanwezig is. Uw persoonlijke link:\n*|consult_deeplink|*\n\nMet vriendelijke groet,\n"
               "*|organisation_name|*"),
        "en": ("Invitation: video consultation on *|appointment_date|* at *|appointment_time|*",
               "Dear *|client_name|*,\n\nYou are invited to join a video consultation with "
               "*|appointment_welcome_from|* on *|appointment_date|* at *|appointment_time|*.\n\nYou can enter as "
               "soon as the client is present. Your personal link:\n*|consult_deeplink|*\n\nKind regards,\n"
               "*|organisation_name|*"),
        "de": ("Einladung: Videosprechstunde am *|appointment_date|* um *|appointment_time|*",
               "Guten Tag *|client_name|*,\n\nSie sind zu einer Videosprechstunde bei *|appointment_welcome_from|* "
               "am *|appointment_date|* um *|appointment_time|* eingeladen.\n\nSie können eintreten, sobald der "
               "Klient anwesend ist. Ihr persönlicher Link:\n*|consult_deeplink|*\n\nMit freundlichen Grüßen\n"
               "*|organisation_name|*"),
        "es": ("Invitación: videoconsulta el *|appointment_date|* a las *|appointment_time|*",
               "Estimado/a *|client_name|*:\n\nEstá invitado/a a participar en una videoconsulta con "
               "*|appointment_welcome_from|* el *|appointment_date|* a las *|appointment_time|*.\n\nPodrá entrar en "
               "cuanto el paciente esté presente. Su enlace personal:\n*|consult_deeplink|*\n\nAtentamente,\n"
               "*|organisation_name|*"),
    },
    "questionnaire": {
        "nl": ("Wilt u een vragenlijst invullen voor *|organisation_name|*?",
               "Beste *|client_name|*,\n\nWilt u voor uw zorg bij *|organisation_name|* de volgende vragenlijst(en) "
               "invullen?\n\n*|questionnaire_titles|*\n\nOpen hiervoor uw persoonlijke portaal:\n"
               "*|portal_deeplink|*\n\nU krijgt een code per e-mail om in te loggen. Uw antwoorden worden "
               "tussentijds bewaard; u kunt stoppen en later verder gaan.\n\nMet vriendelijke groet,\n"
               "*|organisation_name|*"),
        "en": ("Please fill in a questionnaire for *|organisation_name|*",
               "Dear *|client_name|*,\n\nFor your care at *|organisation_name|*, please fill in the following "
               "questionnaire(s):\n\n*|questionnaire_titles|*\n\nOpen your personal portal to do so:\n"
               "*|portal_deeplink|*\n\nYou will get a code by email to sign in. Your answers are saved as you go; "
               "you can stop and continue later.\n\nKind regards,\n*|organisation_name|*"),
        "de": ("Bitte füllen Sie einen Fragebogen für *|organisation_name|* aus",
               "Guten Tag *|client_name|*,\n\nfür Ihre Behandlung bei *|organisation_name|* bitten wir Sie, "
               "folgende(n) Fragebogen auszufüllen:\n\n*|questionnaire_titles|*\n\nÖffnen Sie dazu Ihr "
               "persönliches Portal:\n*|portal_deeplink|*\n\nSie erhalten zur Anmeldung einen Code per E-Mail. "
               "Ihre Antworten werden zwischendurch gespeichert; Sie können aufhören und später weitermachen.\n\n"
               "Mit freundlichen Grüßen\n*|organisation_name|*"),
        "es": ("Por favor, rellene un cuestionario para *|organisation_name|*",
               "Estimado/a *|client_name|*:\n\nPara su atención en *|organisation_name|*, le rogamos que rellene "
               "el siguiente cuestionario o cuestionarios:\n\n*|questionnaire_titles|*\n\nAbra para ello su "
               "portal personal:\n*|portal_deeplink|*\n\nRecibirá un código por correo electrónico para "
               "entrar. Sus respuestas se guardan sobre la marcha; puede parar y continuar más tarde.\n\n"
               "Atentamente,\n*|organisation_name|*"),
    },
}
