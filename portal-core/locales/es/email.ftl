# Los correos al cliente: asuntos, cuerpos y su versión en texto plano.
# (El saludo, la despedida, la invitación y la verificación están en portal.ftl.)
# Los correos al personal del MSP (avisos, resúmenes, escalados, bloqueos) siguen en
# inglés: el personal usa la consola en inglés, así que no están en el catálogo.

## Fechas largas (la fecha límite de una tarea en «una tarea para usted»)

email-date-long = { $weekday }, { $day } de { $month } de { $year }
email-weekday-long = { $weekday ->
    [1] lunes
    [2] martes
    [3] miércoles
    [4] jueves
    [5] viernes
    [6] sábado
   *[7] domingo
}
email-month-long = { $month ->
    [1] enero
    [2] febrero
    [3] marzo
    [4] abril
    [5] mayo
    [6] junio
    [7] julio
    [8] agosto
    [9] septiembre
    [10] octubre
    [11] noviembre
   *[12] diciembre
}

## Invitación de un invitado

email-guest-subject = { $company } ha compartido con usted tareas de incorporación de { $client }
email-guest-title = Tareas compartidas con usted
email-guest-intro = { $count ->
    [one] { $company } está incorporando a { $client } y le pide ayuda con una tarea:
   *[other] { $company } está incorporando a { $client } y le pide ayuda con { $count } tareas:
}
email-guest-intro-html = { $count ->
    [one] <strong>{ $company }</strong> está incorporando a { $client } y le pide ayuda con una tarea:
   *[other] <strong>{ $company }</strong> está incorporando a { $client } y le pide ayuda con { $count } tareas:
}
email-guest-open = { $count ->
    [one] Ábrala aquí:
   *[other] Ábralas aquí:
}
email-guest-button = Abrir sus tareas
email-guest-personal = Solo verá estas tareas y sus mensajes. Este enlace es personal: no lo reenvíe. Al abrirlo, le enviaremos un código por correo para confirmar que es usted. No necesita cuenta ni contraseña.
email-guest-ends = Su acceso termina el { $ends }.

## Documento rechazado

email-rejected-subject = { $company } necesita una nueva versión de “{ $document }”
email-rejected-title = { $company } necesita una nueva versión de { $document }
email-rejected-intro = { $company } ha revisado el archivo que subió para “{ $document }” ({ $file }, tarea “{ $task }”) y necesita una nueva versión:
email-rejected-intro-html = { $company } ha revisado el archivo que subió para <strong>“{ $document }”</strong> ({ $file }, tarea “{ $task }”) y necesita una nueva versión:
email-rejected-again = Abra su portal y vuelva a subir el documento en esa tarea. Las versiones anteriores quedan en poder de { $company }; no necesita borrar nada.

## Una tarea para usted (asignada, o lista)

email-task-assigned-subject = Nueva tarea para usted: “{ $task }”
email-task-assigned-intro = { $company } le ha asignado una tarea en su portal de incorporación:
email-task-ready-subject = “{ $task }” ya está lista para usted
email-task-ready-intro = Todo lo que esta tarea esperaba está hecho, así que ya puede realizarla:
email-task-due = Vence el { $date }
email-task-open = Abra su portal de { $company } con su enlace de invitación para verla.

## Reuniones

email-meeting-scheduled-subject = Reunión programada: “{ $title }”
email-meeting-scheduled-intro = { $company } ha programado una reunión con usted:
email-meeting-scheduled-calendar = La invitación de calendario va adjunta: ábrala para añadir la reunión a su calendario.
email-meeting-moved-subject = Reunión modificada: “{ $title }”
email-meeting-moved-intro = { $company } ha cambiado la hora o los detalles de su reunión. Ahora es:
email-meeting-moved-calendar = La invitación de calendario actualizada va adjunta: ábrala y su calendario moverá la reunión que ya tiene en lugar de añadir otra.
email-meeting-cancelled-subject = Reunión cancelada: “{ $title }”
email-meeting-cancelled-intro = { $company } ha cancelado esta reunión:
email-meeting-cancelled-calendar = El archivo de calendario adjunto la elimina de su calendario.
email-meeting-when = { $when }, durante { $length }
# También la línea con la que termina la descripción del archivo de calendario.
email-meeting-join = Unirse:

## Pregunta respondida

email-answered-subject = { $company } ha respondido a su pregunta
email-answered-intro = { $company } ha respondido a la pregunta que hizo en su portal de incorporación de { $client }:
email-answered-from = Respuesta de { $who }:
email-answered-from-html = Respuesta de <strong>{ $who }</strong>:
email-answered-more = Puede leerla, y hacer otra pregunta, en Preguntas de su portal.

## Respuesta a un comentario

email-reply-subject = { $who } ha respondido en “{ $task }”
email-reply-title = { $who } ha respondido en { $task }
email-reply-intro = { $who }, de { $company }, ha respondido en “{ $task }”, una tarea que usted comentó en su portal de incorporación de { $client }:
email-reply-intro-html = <strong>{ $who }</strong>, de { $company }, ha respondido en “{ $task }”, una tarea que usted comentó en su portal de incorporación de { $client }:
email-reply-open = Abra la tarea para leer toda la conversación y responder:
email-open-task-button = Abrir la tarea

## Recordatorio diario

email-digest-subject-one = Recordatorio: “{ $task }” en su portal de { $client }
email-digest-subject-many = { $count ->
    [one] Recordatorio: { $count } tarea en su portal de { $client }
   *[other] Recordatorio: { $count } tareas en su portal de { $client }
}
email-digest-intro = { $count ->
    [one] Una tarea de su portal de incorporación de { $client } le necesita:
   *[other] { $count } tareas de su portal de incorporación de { $client } le necesitan:
}
email-digest-due = vence el { $date }
email-digest-due-today = vence hoy, { $date }
email-digest-overdue = vencida, vencía el { $date }
email-digest-open-button = Abrir la tarea
email-digest-open = Ábrala:
email-digest-snooze = Recordármelo en 3 días
email-digest-links = Cada enlace abre el portal; si no ha iniciado sesión, abra primero el correo de invitación de { $company }.
email-digest-at-most = Recibe como máximo un recordatorio al día, en días laborables.
email-digest-stop = Dejar de recibir recordatorios
email-digest-others = (los demás correos del portal seguirán llegando)

## Novedades de una tarea (bloqueo resuelto, fechas límite, traspaso)

email-update-open = Abra la tarea:
email-no-note = (Sin nota.)
email-stuck-cleared-subject = { $company } le ha respondido en “{ $task }”
email-stuck-cleared = { $who }, de { $company }, le ha respondido en “{ $task }”, donde indicó que no podía avanzar. Puede continuar con la tarea.
email-stuck-no-message = (Sin mensaje: consulte la conversación de la tarea.)
email-due-approved-subject = Nueva fecha límite para “{ $task }”: { $date }
email-due-approved = { $company } ha aprobado su nueva fecha límite para “{ $task }”: ahora vence el { $date }.
email-due-declined-subject = Se ha rechazado su nueva fecha límite para “{ $task }”
email-due-declined = { $company } no ha podido cambiar la fecha límite de “{ $task }” al { $asked }. { $stays } Su nota:
email-due-declined-stays = Sigue venciendo el { $date }.
email-due-declined-no-due = La tarea sigue sin fecha límite.
email-handed-subject = { $who } le ha traspasado “{ $task }”
email-handed = { $who } le ha traspasado “{ $task }”: ahora es suya.

## Páginas de documentos y de certificado
# Los documentos solicitados (document.html) toman sus textos de task.ftl, con la
# página de tarea de la que forman parte; los del certificado de firma están aquí.

certpage-page-title = Certificado de firma
certpage-back = ← Volver a la tarea
certpage-title = Certificado de evidencias de la firma
certpage-intro = “{ $task }”, firmado en el portal de clientes de { $company }. Es una firma electrónica simple: registra quién firmó, cuándo y que nada ha cambiado desde entonces.
certpage-intact = ✓ Todas las huellas de abajo se han recalculado y coinciden.
certpage-broken = Atención: parte de esta firma ya no coincide con lo registrado (vea Verificación).
certpage-signer = Firmante
certpage-name = Nombre
certpage-email = Correo electrónico
certpage-signed-at = Fecha de firma
certpage-signed-at-utc = Fecha de firma (UTC)
certpage-zone-shown = Zona horaria mostrada
certpage-ip = Dirección IP
certpage-browser = Navegador
certpage-method = Método
certpage-consent = Consentimiento
certpage-fingerprints = Huellas (SHA-256)
certpage-document = Documento
certpage-none-attached = Ninguno adjunto
certpage-signature = Firma
certpage-whole-record = Registro completo
certpage-audit = Registro de auditoría
certpage-event-number = Número de evento
certpage-event-hash = Hash del evento
certpage-no-event = No se ha encontrado ningún evento de auditoría para esta firma.
certpage-verification = Verificación
certpage-print = Use el comando Imprimir de su navegador para imprimir esta página o guardarla como PDF.
certpage-not-recorded = no registrado
certpage-drawn = Dibujada en el panel de firma
certpage-typed = Nombre escrito: { $name }
certpage-part = { $part ->
    [record] Registro de la firma
    [document] Documento firmado
    [mark] Firma (imagen o nombre escrito)
    [consent] Declaración de consentimiento
    [audit] Evento del registro de auditoría
   *[other] Otro
}
certpage-status = { $status ->
    [matches] Coincide
    [mismatch] No coincide
   *[missing] Falta
}
