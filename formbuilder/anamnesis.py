"""The standard medical-history questionnaire (anamnesis) every organisation starts with (F-FORM-2).

These are data, not gettext strings: once created they are the organisation's own texts, which its
admins edit in the questionnaire editor. One version per language, all with the same questions in the
same order, sharing one translation group, so a client gets the version in their own language.

`default_questionnaires_build` takes the model classes, so the data migration can call it with its
historical models; `default_questionnaires_create` is the service for new organisations.
"""

import uuid

# (field type, label, required, choices, help text) — the same structure in every language.
ANAMNESIS = {
    "en": {
        "title": "Medical history",
        "intro": "Please answer these questions before your appointment, so your practitioner can prepare. "
                 "It takes about ten minutes; your answers are saved as you go.",
        "questions": [
            ("title", "Personal details", False, [], ""),
            ("paragraph", "Your answers are sent securely and only the people involved in your care can read "
                          "them. Questions marked as required need an answer; skip any others that do not apply.",
             False, [], ""),
            ("date", "Date of birth", True, [], ""),
            ("country", "Country of residence", True, [], ""),
            ("email", "Email address for questions about your answers", False, [],
             "Only if we may email you about this questionnaire."),
            ("title", "Reason for consultation", False, [], ""),
            ("multiline", "What would you like to discuss?", True, [],
             "Describe your complaints or question in your own words."),
            ("dropdown", "Since when have you had these complaints?", True,
             ["Less than a week", "1 to 4 weeks", "1 to 6 months", "More than 6 months"], ""),
            ("radio", "How severe are your complaints?", True,
             ["Mild", "Moderate", "Severe"], ""),
            ("image", "Photo of the complaint", False, [],
             "Optional, for example of a skin condition or a wound. JPEG, PNG, WebP or GIF."),
            ("title", "Medical history", False, [], ""),
            ("checkboxes", "Do you have, or have you had, any of these conditions?", False,
             ["Diabetes", "High blood pressure", "Heart disease", "Asthma or COPD", "Stroke", "Cancer",
              "Kidney disease", "Thyroid disorder", "Depression or anxiety", "Epilepsy"], ""),
            ("singleline", "Other conditions", False, [], ""),
            ("multiline", "Operations and hospital admissions", False, [], "What, and in which year."),
            ("title", "Medication and allergies", False, [], ""),
            ("multiline", "Which medicines do you use?", False, [],
             "Name, strength and how often; also medicines without a prescription and supplements."),
            ("radio", "Are you allergic to any medicines, foods or other substances?", True, ["Yes", "No"], ""),
            ("multiline", "If yes: to what, and what happens?", False, [], ""),
            ("title", "Family history", False, [], ""),
            ("multiselect", "Do any of these occur in your parents, brothers or sisters?", False,
             ["Diabetes", "Heart disease before the age of 60", "High blood pressure", "Stroke", "Cancer",
              "Mental illness"], ""),
            ("title", "Lifestyle", False, [], ""),
            ("radio", "Do you smoke?", True, ["No, never", "I used to smoke", "Yes"], ""),
            ("dropdown", "How many units of alcohol do you drink per week?", True,
             ["None", "1 to 7", "8 to 14", "15 to 21", "More than 21"],
             "One unit is one glass of beer, wine or spirits."),
            ("radio", "On how many days a week are you active for at least 30 minutes?", False,
             ["0", "1 to 2", "3 to 4", "5 or more"], "Walking, cycling, sports, gardening."),
            ("number", "Weight in kg", False, [], ""),
            ("title", "Pregnancy", False, [], ""),
            ("radio", "Are you pregnant, or could you be?", False,
             ["Yes", "No", "Not sure", "Not applicable"], "If applicable."),
            ("title", "Finally", False, [], ""),
            ("checkbox", "I have answered these questions as completely as I can", True, [], ""),
            ("paragraph", "Thank you. Your practitioner reads your answers before the appointment. If your "
                          "complaints get worse in the meantime, call the practice; in an emergency, call 112.",
             False, [], ""),
        ],
    },
    "nl": {
        "title": "Medische voorgeschiedenis",
        "intro": "Beantwoord deze vragen graag vóór uw afspraak, zodat uw behandelaar zich kan voorbereiden. "
                 "Het kost ongeveer tien minuten; uw antwoorden worden tussendoor bewaard.",
        "questions": [
            ("title", "Persoonlijke gegevens", False, [], ""),
            ("paragraph", "Uw antwoorden worden beveiligd verstuurd en alleen de mensen die bij uw zorg betrokken "
                          "zijn kunnen ze lezen. Verplichte vragen hebben een antwoord nodig; sla andere vragen "
                          "over als ze niet voor u gelden.",
             False, [], ""),
            ("date", "Geboortedatum", True, [], ""),
            ("country", "Woonland", True, [], ""),
            ("email", "E-mailadres voor vragen over uw antwoorden", False, [],
             "Alleen als we u over deze vragenlijst mogen mailen."),
            ("title", "Reden van het consult", False, [], ""),
            ("multiline", "Waarover wilt u het hebben?", True, [],
             "Beschrijf uw klachten of vraag in uw eigen woorden."),
            ("dropdown", "Sinds wanneer heeft u deze klachten?", True,
             ["Minder dan een week", "1 tot 4 weken", "1 tot 6 maanden", "Langer dan 6 maanden"], ""),
            ("radio", "Hoe ernstig zijn uw klachten?", True,
             ["Licht", "Matig", "Ernstig"], ""),
            ("image", "Foto van de klacht", False, [],
             "Niet verplicht, bijvoorbeeld van een huidaandoening of een wond. JPEG, PNG, WebP of GIF."),
            ("title", "Medische voorgeschiedenis", False, [], ""),
            ("checkboxes", "Heeft u, of had u, een van deze aandoeningen?", False,
             ["Diabetes", "Hoge bloeddruk", "Hartziekte", "Astma of COPD", "Beroerte", "Kanker",
              "Nierziekte", "Schildklieraandoening", "Depressie of angst", "Epilepsie"], ""),
            ("singleline", "Andere aandoeningen", False, [], ""),
            ("multiline", "Operaties en ziekenhuisopnames", False, [], "Wat, en in welk jaar."),
            ("title", "Medicijnen en allergieën", False, [], ""),
            ("multiline", "Welke medicijnen gebruikt u?", False, [],
             "Naam, sterkte en hoe vaak; ook medicijnen zonder recept en supplementen."),
            ("radio", "Bent u allergisch voor medicijnen, voedsel of andere stoffen?", True, ["Ja", "Nee"], ""),
            ("multiline", "Zo ja: waarvoor, en wat gebeurt er dan?", False, [], ""),
            ("title", "Familie", False, [], ""),
            ("multiselect", "Komt een van deze aandoeningen voor bij uw ouders, broers of zussen?", False,
             ["Diabetes", "Hartziekte vóór het 60e jaar", "Hoge bloeddruk", "Beroerte", "Kanker",
              "Psychische aandoening"], ""),
            ("title", "Leefstijl", False, [], ""),
            ("radio", "Rookt u?", True, ["Nee, nooit", "Vroeger wel", "Ja"], ""),
            ("dropdown", "Hoeveel glazen alcohol drinkt u per week?", True,
             ["Geen", "1 tot 7", "8 tot 14", "15 tot 21", "Meer dan 21"],
             "Eén glas bier, wijn of sterke drank is één eenheid."),
            ("radio", "Op hoeveel dagen per week beweegt u minstens 30 minuten?", False,
             ["0", "1 tot 2", "3 tot 4", "5 of meer"], "Wandelen, fietsen, sporten, tuinieren."),
            ("number", "Gewicht in kg", False, [], ""),
            ("title", "Zwangerschap", False, [], ""),
            ("radio", "Bent u zwanger, of zou u zwanger kunnen zijn?", False,
             ["Ja", "Nee", "Weet ik niet", "Niet van toepassing"], "Indien van toepassing."),
            ("title", "Tot slot", False, [], ""),
            ("checkbox", "Ik heb deze vragen zo volledig mogelijk beantwoord", True, [], ""),
            ("paragraph", "Dank u wel. Uw behandelaar leest uw antwoorden vóór de afspraak. Worden uw klachten "
                          "intussen erger, bel dan de praktijk; bel bij spoed 112.",
             False, [], ""),
        ],
    },
    "de": {
        "title": "Anamnese",
        "intro": "Bitte beantworten Sie diese Fragen vor Ihrem Termin, damit sich Ihre Behandlerin oder Ihr "
                 "Behandler vorbereiten kann. Es dauert etwa zehn Minuten; Ihre Antworten werden zwischendurch "
                 "gespeichert.",
        "questions": [
            ("title", "Persönliche Angaben", False, [], ""),
            ("paragraph", "Ihre Antworten werden verschlüsselt übertragen und nur die an Ihrer Behandlung "
                          "beteiligten Personen können sie lesen. Pflichtfragen brauchen eine Antwort; andere "
                          "Fragen können Sie überspringen, wenn sie nicht zutreffen.",
             False, [], ""),
            ("date", "Geburtsdatum", True, [], ""),
            ("country", "Wohnsitzland", True, [], ""),
            ("email", "E-Mail-Adresse für Rückfragen zu Ihren Antworten", False, [],
             "Nur wenn wir Ihnen zu diesem Fragebogen schreiben dürfen."),
            ("title", "Anlass des Termins", False, [], ""),
            ("multiline", "Worüber möchten Sie sprechen?", True, [],
             "Beschreiben Sie Ihre Beschwerden oder Ihre Frage in eigenen Worten."),
            ("dropdown", "Seit wann haben Sie diese Beschwerden?", True,
             ["Weniger als eine Woche", "1 bis 4 Wochen", "1 bis 6 Monate", "Länger als 6 Monate"], ""),
            ("radio", "Wie stark sind Ihre Beschwerden?", True,
             ["Leicht", "Mittel", "Stark"], ""),
            ("image", "Foto der Beschwerden", False, [],
             "Freiwillig, zum Beispiel von einer Hautveränderung oder einer Wunde. JPEG, PNG, WebP oder GIF."),
            ("title", "Vorerkrankungen", False, [], ""),
            ("checkboxes", "Haben oder hatten Sie eine dieser Erkrankungen?", False,
             ["Diabetes", "Bluthochdruck", "Herzerkrankung", "Asthma oder COPD", "Schlaganfall", "Krebs",
              "Nierenerkrankung", "Schilddrüsenerkrankung", "Depression oder Angststörung", "Epilepsie"], ""),
            ("singleline", "Andere Erkrankungen", False, [], ""),
            ("multiline", "Operationen und Krankenhausaufenthalte", False, [], "Was, und in welchem Jahr."),
            ("title", "Medikamente und Allergien", False, [], ""),
            ("multiline", "Welche Medikamente nehmen Sie?", False, [],
             "Name, Stärke und wie oft; auch rezeptfreie Mittel und Nahrungsergänzungsmittel."),
            ("radio", "Sind Sie allergisch gegen Medikamente, Lebensmittel oder andere Stoffe?", True,
             ["Ja", "Nein"], ""),
            ("multiline", "Wenn ja: wogegen, und was passiert dann?", False, [], ""),
            ("title", "Familiengeschichte", False, [], ""),
            ("multiselect", "Kommt eine dieser Erkrankungen bei Ihren Eltern oder Geschwistern vor?", False,
             ["Diabetes", "Herzerkrankung vor dem 60. Lebensjahr", "Bluthochdruck", "Schlaganfall", "Krebs",
              "Psychische Erkrankung"], ""),
            ("title", "Lebensstil", False, [], ""),
            ("radio", "Rauchen Sie?", True, ["Nein, nie", "Früher ja", "Ja"], ""),
            ("dropdown", "Wie viele Gläser Alkohol trinken Sie pro Woche?", True,
             ["Keine", "1 bis 7", "8 bis 14", "15 bis 21", "Mehr als 21"],
             "Ein Glas Bier, Wein oder Spirituosen ist eine Einheit."),
            ("radio", "An wie vielen Tagen pro Woche bewegen Sie sich mindestens 30 Minuten?", False,
             ["0", "1 bis 2", "3 bis 4", "5 oder mehr"], "Gehen, Radfahren, Sport, Gartenarbeit."),
            ("number", "Gewicht in kg", False, [], ""),
            ("title", "Schwangerschaft", False, [], ""),
            ("radio", "Sind Sie schwanger, oder könnten Sie schwanger sein?", False,
             ["Ja", "Nein", "Weiß ich nicht", "Trifft nicht zu"], "Falls zutreffend."),
            ("title", "Zum Schluss", False, [], ""),
            ("checkbox", "Ich habe diese Fragen so vollständig wie möglich beantwortet", True, [], ""),
            ("paragraph", "Vielen Dank. Ihre Behandlerin oder Ihr Behandler liest Ihre Antworten vor dem Termin. "
                          "Wenn Ihre Beschwerden bis dahin schlimmer werden, rufen Sie die Praxis an; im Notfall "
                          "die 112.",
             False, [], ""),
        ],
    },
    "es": {
        "title": "Historia clínica",
        "intro": "Responda a estas preguntas antes de su cita, para que su profesional pueda prepararse. Tarda "
                 "unos diez minutos; sus respuestas se guardan sobre la marcha.",
        "questions": [
            ("title", "Datos personales", False, [], ""),
            ("paragraph", "Sus respuestas se envían de forma segura y solo las personas que participan en su "
                          "atención pueden leerlas. Las preguntas obligatorias necesitan respuesta; omita las "
                          "demás si no le corresponden.",
             False, [], ""),
            ("date", "Fecha de nacimiento", True, [], ""),
            ("country", "País de residencia", True, [], ""),
            ("email", "Correo electrónico para preguntas sobre sus respuestas", False, [],
             "Solo si podemos escribirle sobre este cuestionario."),
            ("title", "Motivo de la consulta", False, [], ""),
            ("multiline", "¿De qué le gustaría hablar?", True, [],
             "Describa sus molestias o su pregunta con sus propias palabras."),
            ("dropdown", "¿Desde cuándo tiene estas molestias?", True,
             ["Menos de una semana", "De 1 a 4 semanas", "De 1 a 6 meses", "Más de 6 meses"], ""),
            ("radio", "¿Qué intensidad tienen sus molestias?", True,
             ["Leve", "Moderada", "Grave"], ""),
            ("image", "Foto de la molestia", False, [],
             "Opcional, por ejemplo de un problema de piel o una herida. JPEG, PNG, WebP o GIF."),
            ("title", "Antecedentes médicos", False, [], ""),
            ("checkboxes", "¿Tiene o ha tenido alguna de estas enfermedades?", False,
             ["Diabetes", "Tensión arterial alta", "Enfermedad del corazón", "Asma o EPOC", "Ictus", "Cáncer",
              "Enfermedad renal", "Enfermedad de tiroides", "Depresión o ansiedad", "Epilepsia"], ""),
            ("singleline", "Otras enfermedades", False, [], ""),
            ("multiline", "Operaciones e ingresos hospitalarios", False, [], "Qué, y en qué año."),
            ("title", "Medicación y alergias", False, [], ""),
            ("multiline", "¿Qué medicamentos toma?", False, [],
             "Nombre, dosis y frecuencia; también medicamentos sin receta y suplementos."),
            ("radio", "¿Tiene alergia a algún medicamento, alimento u otra sustancia?", True, ["Sí", "No"], ""),
            ("multiline", "Si es así: ¿a qué, y qué le ocurre?", False, [], ""),
            ("title", "Antecedentes familiares", False, [], ""),
            ("multiselect", "¿Alguna de estas enfermedades se da en sus padres o hermanos?", False,
             ["Diabetes", "Enfermedad del corazón antes de los 60 años", "Tensión arterial alta", "Ictus",
              "Cáncer", "Enfermedad mental"], ""),
            ("title", "Estilo de vida", False, [], ""),
            ("radio", "¿Fuma?", True, ["No, nunca", "Antes sí", "Sí"], ""),
            ("dropdown", "¿Cuántas copas de alcohol bebe por semana?", True,
             ["Ninguna", "De 1 a 7", "De 8 a 14", "De 15 a 21", "Más de 21"],
             "Una caña, una copa de vino o de licor es una unidad."),
            ("radio", "¿Cuántos días por semana hace al menos 30 minutos de actividad física?", False,
             ["0", "De 1 a 2", "De 3 a 4", "5 o más"], "Caminar, ir en bicicleta, hacer deporte, jardinería."),
            ("number", "Peso en kg", False, [], ""),
            ("title", "Embarazo", False, [], ""),
            ("radio", "¿Está embarazada o podría estarlo?", False,
             ["Sí", "No", "No lo sé", "No procede"], "Si procede."),
            ("title", "Para terminar", False, [], ""),
            ("checkbox", "He respondido a estas preguntas de la forma más completa posible", True, [], ""),
            ("paragraph", "Gracias. Su profesional lee sus respuestas antes de la cita. Si sus molestias empeoran "
                          "mientras tanto, llame a la consulta; en caso de urgencia, llame al 112.",
             False, [], ""),
        ],
    },
}
LANGUAGES = ("nl", "en", "de", "es")


def clean_name_for(label):
    from wagtail.contrib.forms.utils import get_field_clean_name

    return get_field_clean_name(label)


def default_questionnaires_build(organization_id, questionnaire_model, field_model, using="default"):
    """Create the standard questionnaire for one organisation in every language it lacks; returns the new rows.

    Pure: works with the app's models and with a migration's historical ones (plain managers only).
    Idempotent: the languages already there are left as the organisation edited them; a missing language
    joins the translation group of the existing ones.
    """
    questionnaires = questionnaire_model._base_manager.db_manager(using)
    fields = field_model._base_manager.db_manager(using)
    existing = list(questionnaires.filter(organization_id=organization_id, is_default=True)
                    .values_list("language", "translation_key"))
    have = {language for language, _key in existing}
    translation_key = existing[0][1] if existing else uuid.uuid4()
    created = []
    for language in LANGUAGES:
        if language in have:
            continue
        data = ANAMNESIS[language]
        questionnaire = questionnaires.create(
            organization_id=organization_id, title=data["title"], intro=data["intro"], language=language,
            translation_key=translation_key, is_default=True,
        )
        fields.bulk_create([
            field_model(questionnaire_id=questionnaire.pk, sort_order=order, clean_name=clean_name_for(label),
                        label=label, field_type=field_type, required=required, choices="\n".join(choices),
                        default_value="", help_text=help_text)
            for order, (field_type, label, required, choices, help_text) in enumerate(data["questions"])
        ])
        created.append(questionnaire)
    return created


def default_questionnaires_create(*, organization):
    """The standard anamnesis for `organization` in nl, en, de and es (safe to call again)."""
    from django.db import transaction

    from .models import Questionnaire, QuestionnaireField

    with transaction.atomic():
        # One at a time per organisation, so two runs never both create the missing languages.
        type(organization)._base_manager.select_for_update().filter(pk=organization.pk).exists()
        return default_questionnaires_build(organization.pk, Questionnaire, QuestionnaireField)
