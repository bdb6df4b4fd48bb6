"""The words of the bag, checkout and account pages in the visitor's language.

Like the shopper pages' own table (``catalog.templatetags.shop``): a dictionary per language,
English as the key and the fallback. A text found in neither table is shown as it is, which is
what happens to an error text of Centra's that we have no sentence for.

``{% load checkout_text %}`` gives ``{% t "Pay {amount}" amount=... %}`` (it also knows the
shopper pages' words, e.g. "Bag") and ``{% tv text values %}`` for a text whose values come in
a dictionary (a notice carried over from the page before).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template

from catalog.templatetags.shop import translate as shop_translate

register = template.Library()

WORDS: dict[str, dict[str, str]] = {
    "sv": {
        # the bag
        "Your bag": "Din varukorg",
        "Your bag is empty.": "Din varukorg är tom.",
        "Continue shopping": "Fortsätt handla",
        "Items": "Artiklar",
        "Summary": "Sammanfattning",
        "Discount code": "Rabattkod",
        "Discount": "Rabatt",
        "Shipping": "Frakt",
        "Total": "Totalt",
        "of which VAT": "varav moms",
        "VAT deducted": "Avdragen moms",
        "Quantity": "Antal",
        "One less": "En färre",
        "One more": "En till",
        "Remove": "Ta bort",
        "Remove code {code}": "Ta bort koden {code}",
        "Shipping to": "Leverans till",
        "Prices, currency and delivery follow the country.": (
            "Priser, valuta och leverans följer landet."
        ),
        "Go to checkout": "Till kassan",
        "Added to your bag": "Tillagd i varukorgen",
        "This size could not be added.": "Storleken kunde inte läggas till.",
        "Code {code} added": "Koden {code} har lagts till",
        "Code {code} removed": "Koden {code} har tagits bort",
        "size {size}": "storlek {size}",
        "only {count} left": "bara {count} kvar",
        "Some items are not sold in {country} and were removed from your bag:": (
            "Några varor säljs inte i {country} och har tagits bort ur din varukorg:"
        ),
        # checkout
        "Checkout": "Kassa",
        "Your details": "Dina uppgifter",
        "Logged in as {email}": "Inloggad som {email}",
        "Have an account? Log in": "Har du ett konto? Logga in",
        "Email": "E-post",
        "First name": "Förnamn",
        "Last name": "Efternamn",
        "Company": "Företag",
        "Address": "Adress",
        "Address line 2": "Adressrad 2",
        "Postcode": "Postnummer",
        "City": "Ort",
        "State": "Delstat",
        "Choose a state": "Välj delstat",
        "Phone": "Telefon",
        "Delivery": "Leverans",
        "Payment": "Betalning",
        "Send me the newsletter": "Skicka mig nyhetsbrevet",
        "I accept the terms and conditions": "Jag godkänner köpvillkoren",
        "Update total": "Uppdatera summan",
        "Pay {amount}": "Betala {amount}",
        "Your order": "Din beställning",
        "Edit bag": "Ändra varukorg",
        "Your total has changed. Please check it.": "Din summa har ändrats. Kontrollera den.",
        "Complete your payment below. You will come back to the shop afterwards.": (
            "Slutför betalningen nedan. Du kommer sedan tillbaka till butiken."
        ),
        "Confirming your payment": "Vi bekräftar din betalning",
        "One moment, please.": "Ett ögonblick.",
        "Continue": "Fortsätt",
        "Your payment is being confirmed. This takes a moment.": (
            "Din betalning bekräftas. Det tar en liten stund."
        ),
        "See your receipt": "Visa kvittot",
        "Payment not completed": "Betalningen genomfördes inte",
        "Your payment was not completed": "Din betalning genomfördes inte",
        "Nothing has been charged. Your bag is saved, so you can try again or choose another "
        "way to pay.": (
            "Ingenting har dragits. Din varukorg är sparad, så du kan försöka igen eller välja "
            "ett annat betalsätt."
        ),
        "Back to your bag": "Tillbaka till varukorgen",
        "Try again": "Försök igen",
        "We did not hear back in time": "Vi fick inget svar i tid",
        "Your payment may have gone through. Please do not pay again before you have checked "
        "your receipt or your email for an order confirmation.": (
            "Din betalning kan ha gått igenom. Betala inte igen innan du har tittat på kvittot "
            "eller letat efter en orderbekräftelse i din e-post."
        ),
        "We could not check whether your last change went through. Please look again in a "
        "moment before you try again, so that nothing happens twice.": (
            "Vi kunde inte kontrollera om din senaste ändring gick igenom. Titta igen om en "
            "stund innan du försöker igen, så att inget händer två gånger."
        ),
        "Your last change shows below, so it has probably gone through. Please check it "
        "before you do it again.": (
            "Din senaste ändring syns nedan, så den har troligen gått igenom. Kontrollera den "
            "innan du gör den igen."
        ),
        "Your last change does not show below yet. It may still come through: look again in "
        "a moment before you try again.": (
            "Din senaste ändring syns inte nedan än. Den kan fortfarande komma fram: titta igen "
            "om en stund innan du försöker igen."
        ),
        "Look at your bag": "Titta i varukorgen",
        "Your browser does not accept cookies from our shop, so it cannot keep a bag.": (
            "Din webbläsare tar inte emot cookies från vår butik, så den kan inte spara en "
            "varukorg."
        ),
        "Thank you for your order": "Tack för din beställning",
        "Your order number is {number}.": "Ditt ordernummer är {number}.",
        "A confirmation is on its way to {email}.": "En bekräftelse är på väg till {email}.",
        "Order {number}": "Order {number}",
        "Delivery address": "Leveransadress",
        "Shipped {date} with {carrier}": "Skickad {date} med {carrier}",
        "Track parcel {id}": "Spåra paket {id}",
        "Not shipped yet": "Inte skickad än",
        "No order found": "Ingen beställning hittades",
        "We could not find an order from this visit.": (
            "Vi hittade ingen beställning från det här besöket."
        ),
        "Sorry, some items sold out while you were paying. Nothing was charged. "
        "We updated your bag:": (
            "Tyvärr tog några varor slut medan du betalade. Ingenting har dragits. "
            "Vi har uppdaterat din varukorg:"
        ),
        # errors and service
        "Please try again": "Försök igen",
        "We cannot reach our checkout right now": "Vi når inte kassan just nu",
        "Your bag is safe. Please try again in a moment.": (
            "Din varukorg är sparad. Försök igen om en stund."
        ),
        "Not allowed": "Inte tillåtet",
        "This request was refused": "Begäran nekades",
        "This page was open a long time, so the form could not be sent. Nothing was changed.": (
            "Sidan var öppen länge, så vi kunde inte skicka formuläret. Inget har ändrats."
        ),
        "If it happens again, please check that your browser accepts cookies from our shop.": (
            "Om det händer igen, kontrollera att din webbläsare tillåter cookies från vår butik."
        ),
        "Back to the page": "Tillbaka till sidan",
        "For your safety we only accept this form from our own pages.": (
            "För din säkerhet tar vi bara emot formuläret från våra egna sidor."
        ),
        "Required": "Obligatoriskt",
        "Not valid": "Ogiltigt",
        "Not found": "Hittades inte",
        "Enter a valid email address.": "Ange en giltig e-postadress.",
        "An account with this email address already exists.": (
            "Det finns redan ett konto med den här e-postadressen."
        ),
        "The email address or password is not correct.": "E-postadressen eller lösenordet är fel.",
        "Your current password is not correct.": "Ditt nuvarande lösenord är fel.",
        "Choose a longer password (at least 6 characters).": (
            "Välj ett längre lösenord (minst 6 tecken)."
        ),
        "The passwords do not match.": "Lösenorden stämmer inte överens.",
        "This link has expired or was already used.": (
            "Länken har gått ut eller har redan använts."
        ),
        "This link is not complete. Ask for a new one.": "Länken är ofullständig. Be om en ny.",
        "This code is not valid.": "Koden är inte giltig.",
        "This code is not on your order.": "Koden finns inte på din beställning.",
        "Please accept the terms and conditions.": "Du behöver godkänna köpvillkoren.",
        "We cannot ship to this country.": "Vi levererar inte till det här landet.",
        "Your payment was declined.": "Din betalning nekades.",
        "The payment was cancelled.": "Betalningen avbröts.",
        "The payment was not completed.": "Betalningen slutfördes inte.",
        "We could not find this payment.": "Vi hittade inte den här betalningen.",
        "Please log in first.": "Logga in först.",
        "We are still saving your last change. Please try again.": (
            "Vi sparar fortfarande din senaste ändring. Försök igen."
        ),
        "Your payment is being confirmed.": "Din betalning bekräftas.",
        "Too many attempts. Please wait a minute and try again.": (
            "För många försök. Vänta en minut och försök igen."
        ),
        "Something went wrong. Please try again.": "Något gick fel. Försök igen.",
        # account
        "Log in": "Logga in",
        "Log out": "Logga ut",
        "Password": "Lösenord",
        "Forgot your password?": "Glömt lösenordet?",
        "Forgot password": "Glömt lösenord",
        "New here?": "Ny här?",
        "Create an account": "Skapa ett konto",
        "Create account": "Skapa konto",
        "Already have an account?": "Har du redan ett konto?",
        "Enter your email address and we will send you a link to choose a new password.": (
            "Ange din e-postadress så skickar vi en länk där du kan välja ett nytt lösenord."
        ),
        "Send link": "Skicka länk",
        "Back to log in": "Tillbaka till inloggningen",
        "If there is an account for {email}, we have sent it a link to choose a new password.": (
            "Om det finns ett konto för {email} har vi skickat en länk för att välja ett nytt "
            "lösenord."
        ),
        "Choose a new password": "Välj ett nytt lösenord",
        "New password": "Nytt lösenord",
        "Repeat the new password": "Upprepa det nya lösenordet",
        "Save new password": "Spara nytt lösenord",
        "Ask for a new link": "Be om en ny länk",
        "Your new password is saved. You are logged in.": (
            "Ditt nya lösenord är sparat. Du är inloggad."
        ),
        "Welcome back, {name}!": "Välkommen tillbaka, {name}!",
        "Welcome, {name}! Your account is ready.": "Välkommen, {name}! Ditt konto är klart.",
        "You are logged out.": "Du är utloggad.",
        "Your account": "Ditt konto",
        "Account": "Konto",
        "Orders": "Beställningar",
        "Hello, {name}": "Hej, {name}",
        "See your orders": "Se dina beställningar",
        "Save address": "Spara adress",
        "Email address": "E-postadress",
        "New email address": "Ny e-postadress",
        "Change email": "Byt e-postadress",
        "Current password": "Nuvarande lösenord",
        "Change password": "Byt lösenord",
        "Your address is saved.": "Din adress är sparad.",
        "Your email address is saved.": "Din e-postadress är sparad.",
        "Your password is changed.": "Ditt lösenord är bytt.",
        "Your orders": "Dina beställningar",
        "{count} orders": "{count} beställningar",
        "1 order": "1 beställning",
        "You have no orders yet.": "Du har inga beställningar än.",
        "Pages": "Sidor",
    },
    "de": {
        # the bag
        "Your bag": "Dein Warenkorb",
        "Your bag is empty.": "Dein Warenkorb ist leer.",
        "Continue shopping": "Weiter einkaufen",
        "Items": "Artikel",
        "Summary": "Übersicht",
        "Discount code": "Rabattcode",
        "Discount": "Rabatt",
        "Shipping": "Versand",
        "Total": "Gesamt",
        "of which VAT": "davon MwSt.",
        "VAT deducted": "Abgezogene MwSt.",
        "Quantity": "Menge",
        "One less": "Eins weniger",
        "One more": "Eins mehr",
        "Remove": "Entfernen",
        "Remove code {code}": "Code {code} entfernen",
        "Shipping to": "Lieferung nach",
        "Prices, currency and delivery follow the country.": (
            "Preise, Währung und Lieferung richten sich nach dem Land."
        ),
        "Go to checkout": "Zur Kasse",
        "Added to your bag": "Zum Warenkorb hinzugefügt",
        "This size could not be added.": "Diese Größe konnte nicht hinzugefügt werden.",
        "Code {code} added": "Code {code} eingelöst",
        "Code {code} removed": "Code {code} entfernt",
        "size {size}": "Größe {size}",
        "only {count} left": "nur noch {count} verfügbar",
        "Some items are not sold in {country} and were removed from your bag:": (
            "Einige Artikel werden in {country} nicht verkauft und wurden aus deinem Warenkorb "
            "entfernt:"
        ),
        # checkout
        "Checkout": "Kasse",
        "Your details": "Deine Angaben",
        "Logged in as {email}": "Angemeldet als {email}",
        "Have an account? Log in": "Du hast ein Konto? Anmelden",
        "Email": "E-Mail",
        "First name": "Vorname",
        "Last name": "Nachname",
        "Company": "Firma",
        "Address": "Adresse",
        "Address line 2": "Adresszusatz",
        "Postcode": "Postleitzahl",
        "City": "Ort",
        "State": "Bundesstaat",
        "Choose a state": "Bundesstaat wählen",
        "Phone": "Telefon",
        "Delivery": "Lieferung",
        "Payment": "Zahlung",
        "Send me the newsletter": "Newsletter abonnieren",
        "I accept the terms and conditions": "Ich akzeptiere die AGB",
        "Update total": "Summe aktualisieren",
        "Pay {amount}": "{amount} bezahlen",
        "Your order": "Deine Bestellung",
        "Edit bag": "Warenkorb bearbeiten",
        "Your total has changed. Please check it.": (
            "Deine Summe hat sich geändert. Bitte prüfe sie."
        ),
        "Complete your payment below. You will come back to the shop afterwards.": (
            "Schließe die Zahlung unten ab. Danach kommst du zurück in den Shop."
        ),
        "Confirming your payment": "Deine Zahlung wird bestätigt",
        "One moment, please.": "Einen Moment bitte.",
        "Continue": "Weiter",
        "Your payment is being confirmed. This takes a moment.": (
            "Deine Zahlung wird bestätigt. Das dauert einen Moment."
        ),
        "See your receipt": "Beleg ansehen",
        "Payment not completed": "Zahlung nicht abgeschlossen",
        "Your payment was not completed": "Deine Zahlung wurde nicht abgeschlossen",
        "Nothing has been charged. Your bag is saved, so you can try again or choose another "
        "way to pay.": (
            "Es wurde nichts belastet. Dein Warenkorb ist gespeichert: Du kannst es noch einmal "
            "versuchen oder eine andere Zahlungsart wählen."
        ),
        "Back to your bag": "Zurück zum Warenkorb",
        "Try again": "Noch einmal versuchen",
        "We did not hear back in time": "Wir haben nicht rechtzeitig eine Antwort bekommen",
        "Your payment may have gone through. Please do not pay again before you have checked "
        "your receipt or your email for an order confirmation.": (
            "Deine Zahlung ist vielleicht schon durchgegangen. Bitte zahle nicht noch einmal, "
            "bevor du deine Quittung oder deine E-Mails auf eine Bestellbestätigung geprüft hast."
        ),
        "We could not check whether your last change went through. Please look again in a "
        "moment before you try again, so that nothing happens twice.": (
            "Wir konnten nicht prüfen, ob deine letzte Änderung durchgegangen ist. Bitte sieh in "
            "einem Moment noch einmal nach, bevor du es erneut versuchst, damit nichts doppelt "
            "passiert."
        ),
        "Your last change shows below, so it has probably gone through. Please check it "
        "before you do it again.": (
            "Deine letzte Änderung ist unten zu sehen, sie ist also wahrscheinlich durchgegangen. "
            "Bitte prüfe sie, bevor du sie wiederholst."
        ),
        "Your last change does not show below yet. It may still come through: look again in "
        "a moment before you try again.": (
            "Deine letzte Änderung ist unten noch nicht zu sehen. Sie kann noch ankommen: sieh "
            "in einem Moment noch einmal nach, bevor du es erneut versuchst."
        ),
        "Look at your bag": "Warenkorb ansehen",
        "Your browser does not accept cookies from our shop, so it cannot keep a bag.": (
            "Dein Browser nimmt keine Cookies unseres Shops an, daher kann er keinen Warenkorb "
            "speichern."
        ),
        "Thank you for your order": "Danke für deine Bestellung",
        "Your order number is {number}.": "Deine Bestellnummer ist {number}.",
        "A confirmation is on its way to {email}.": "Eine Bestätigung geht an {email}.",
        "Order {number}": "Bestellung {number}",
        "Delivery address": "Lieferadresse",
        "Shipped {date} with {carrier}": "Versandt am {date} mit {carrier}",
        "Track parcel {id}": "Sendung {id} verfolgen",
        "Not shipped yet": "Noch nicht versandt",
        "No order found": "Keine Bestellung gefunden",
        "We could not find an order from this visit.": (
            "Wir haben keine Bestellung aus diesem Besuch gefunden."
        ),
        "Sorry, some items sold out while you were paying. Nothing was charged. "
        "We updated your bag:": (
            "Leider waren einige Artikel während des Bezahlens ausverkauft. Es wurde nichts "
            "belastet. Wir haben deinen Warenkorb aktualisiert:"
        ),
        # errors and service
        "Please try again": "Bitte noch einmal versuchen",
        "We cannot reach our checkout right now": "Die Kasse ist gerade nicht erreichbar",
        "Your bag is safe. Please try again in a moment.": (
            "Dein Warenkorb ist gespeichert. Bitte versuche es gleich noch einmal."
        ),
        "Not allowed": "Nicht erlaubt",
        "This request was refused": "Diese Anfrage wurde abgelehnt",
        "This page was open a long time, so the form could not be sent. Nothing was changed.": (
            "Die Seite war lange geöffnet, daher konnten wir das Formular nicht senden. "
            "Es wurde nichts geändert."
        ),
        "If it happens again, please check that your browser accepts cookies from our shop.": (
            "Wenn das wieder passiert, prüfe bitte, ob dein Browser Cookies von unserem Shop "
            "zulässt."
        ),
        "Back to the page": "Zurück zur Seite",
        "For your safety we only accept this form from our own pages.": (
            "Zu deiner Sicherheit nehmen wir dieses Formular nur von unseren eigenen Seiten an."
        ),
        "Required": "Pflichtfeld",
        "Not valid": "Ungültig",
        "Not found": "Nicht gefunden",
        "Enter a valid email address.": "Bitte gib eine gültige E-Mail-Adresse ein.",
        "An account with this email address already exists.": (
            "Es gibt bereits ein Konto mit dieser E-Mail-Adresse."
        ),
        "The email address or password is not correct.": (
            "E-Mail-Adresse oder Passwort ist nicht korrekt."
        ),
        "Your current password is not correct.": "Dein aktuelles Passwort ist nicht korrekt.",
        "Choose a longer password (at least 6 characters).": (
            "Wähle ein längeres Passwort (mindestens 6 Zeichen)."
        ),
        "The passwords do not match.": "Die Passwörter stimmen nicht überein.",
        "This link has expired or was already used.": (
            "Dieser Link ist abgelaufen oder wurde schon benutzt."
        ),
        "This link is not complete. Ask for a new one.": (
            "Dieser Link ist unvollständig. Fordere einen neuen an."
        ),
        "This code is not valid.": "Dieser Code ist ungültig.",
        "This code is not on your order.": "Dieser Code ist nicht in deiner Bestellung.",
        "Please accept the terms and conditions.": "Bitte akzeptiere die AGB.",
        "We cannot ship to this country.": "In dieses Land liefern wir nicht.",
        "Your payment was declined.": "Deine Zahlung wurde abgelehnt.",
        "The payment was cancelled.": "Die Zahlung wurde abgebrochen.",
        "The payment was not completed.": "Die Zahlung wurde nicht abgeschlossen.",
        "We could not find this payment.": "Wir konnten diese Zahlung nicht finden.",
        "Please log in first.": "Bitte melde dich zuerst an.",
        "We are still saving your last change. Please try again.": (
            "Deine letzte Änderung wird noch gespeichert. Bitte versuche es noch einmal."
        ),
        "Your payment is being confirmed.": "Deine Zahlung wird bestätigt.",
        "Too many attempts. Please wait a minute and try again.": (
            "Zu viele Versuche. Bitte warte eine Minute und versuche es dann noch einmal."
        ),
        "Something went wrong. Please try again.": (
            "Etwas ist schiefgegangen. Bitte versuche es noch einmal."
        ),
        # account
        "Log in": "Anmelden",
        "Log out": "Abmelden",
        "Password": "Passwort",
        "Forgot your password?": "Passwort vergessen?",
        "Forgot password": "Passwort vergessen",
        "New here?": "Neu hier?",
        "Create an account": "Konto erstellen",
        "Create account": "Konto erstellen",
        "Already have an account?": "Du hast schon ein Konto?",
        "Enter your email address and we will send you a link to choose a new password.": (
            "Gib deine E-Mail-Adresse ein. Wir schicken dir einen Link, mit dem du ein neues "
            "Passwort wählen kannst."
        ),
        "Send link": "Link senden",
        "Back to log in": "Zurück zur Anmeldung",
        "If there is an account for {email}, we have sent it a link to choose a new password.": (
            "Falls es ein Konto für {email} gibt, haben wir einen Link für ein neues Passwort "
            "geschickt."
        ),
        "Choose a new password": "Neues Passwort wählen",
        "New password": "Neues Passwort",
        "Repeat the new password": "Neues Passwort wiederholen",
        "Save new password": "Neues Passwort speichern",
        "Ask for a new link": "Neuen Link anfordern",
        "Your new password is saved. You are logged in.": (
            "Dein neues Passwort ist gespeichert. Du bist angemeldet."
        ),
        "Welcome back, {name}!": "Willkommen zurück, {name}!",
        "Welcome, {name}! Your account is ready.": "Willkommen, {name}! Dein Konto ist bereit.",
        "You are logged out.": "Du bist abgemeldet.",
        "Your account": "Dein Konto",
        "Account": "Konto",
        "Orders": "Bestellungen",
        "Hello, {name}": "Hallo, {name}",
        "See your orders": "Deine Bestellungen ansehen",
        "Save address": "Adresse speichern",
        "Email address": "E-Mail-Adresse",
        "New email address": "Neue E-Mail-Adresse",
        "Change email": "E-Mail-Adresse ändern",
        "Current password": "Aktuelles Passwort",
        "Change password": "Passwort ändern",
        "Your address is saved.": "Deine Adresse ist gespeichert.",
        "Your email address is saved.": "Deine E-Mail-Adresse ist gespeichert.",
        "Your password is changed.": "Dein Passwort wurde geändert.",
        "Your orders": "Deine Bestellungen",
        "{count} orders": "{count} Bestellungen",
        "1 order": "1 Bestellung",
        "You have no orders yet.": "Du hast noch keine Bestellungen.",
        "Pages": "Seiten",
    },
}


def translate(language: str, text: str, **values: Any) -> str:
    """``text`` in ``language``: ours, else the shopper pages', else as it is. Values are
    filled in after translating; a text with braces of its own (Centra's) is left alone."""
    words = WORDS.get(language, {}).get(text)
    if words is None:
        words = shop_translate(language, text)
    try:
        return words.format(**values) if values else words
    except (KeyError, IndexError, ValueError):
        return words


@register.simple_tag(takes_context=True)
def t(context: template.Context, text: Any, **values: Any) -> str:
    """``{% t "Pay {amount}" amount=total %}`` in the page's language (escaped like any
    variable)."""
    return translate(str(context.get("lang", "en")), str(text), **values)


@register.simple_tag(takes_context=True)
def tv(context: template.Context, text: Any, values: Mapping[str, Any] | None = None) -> str:
    """``{% tv notice.text notice.values %}``: the values in a dictionary."""
    return translate(str(context.get("lang", "en")), str(text), **dict(values or {}))
