# La página de una tarea: sus secciones, botones, estados y mensajes.
# Cada clave está también en en/task.ftl con los mismos argumentos. Las claves más
# antiguas de la página (task-completed-by, meeting-when, survey-*, checklist-*)
# están en portal.ftl.

## Quién hace la tarea

task-readonly-msp = { $company } se encarga de esta tarea. Puede seguir su avance y comentar aquí.
task-readonly-locked = Podrá hacer esta tarea cuando esté terminado lo que la precede; mientras tanto, puede comentar aquí.

## Reunión: su hora tal como la lee el contacto

# Nombres completos de los días, 1 = lunes.
meeting-weekday = { $weekday ->
    [1] lunes
    [2] martes
    [3] miércoles
    [4] jueves
    [5] viernes
    [6] sábado
   *[7] domingo
}
# Nombres completos de los meses, 1 = enero.
meeting-month = { $month ->
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
# "sábado 28 de noviembre de 2026".
meeting-date = { $weekday } { $day } de { $month } de { $year }
# Una hora: "9:00 a. m."; $minute lleva sus dos cifras.
meeting-clock = { $hour }:{ $minute } { $ampm ->
    [am] a. m.
   *[pm] p. m.
}
# "sábado 28 de noviembre de 2026, 9:00 a. m. – 9:45 a. m. CST"; $zone es la abreviatura.
meeting-range = { $date }, { $start } – { $end } { $zone }
# Una duración de más de una hora que no son horas enteras.
meeting-duration-hm = { $hours } h { $minutes } min

## Lista de comprobación

checklist-check = Marcar

## Documentos compartidos y aprobación

shared-title = Documentos de { $company }
approval-label = Aprobación
approval-document = Documento de apoyo que debe revisar: <strong>{ $name }</strong> <span class="hint">(su equipo de incorporación se lo comparte)</span>
# La decisión: $approved es "yes" o "no".
approval-decided = { $approved ->
    [yes] ✓ Aprobada
   *[no] ✗ Rechazada
} por { $name } <span class="who-email">({ $email })</span> el { $time }
approval-decided-on = Decidida sobre { $name } <span class="hash">(SHA-256 <code>{ $hash }</code>)</span>
approval-open-first = Abra el documento antes de decidir. Use «Abrir» más arriba y luego vuelva a cargar esta página.
approval-comment = Comentario
approval-approve = Aprobar
approval-reject = Rechazar

## Subida de documentos

documents-title = Documentos solicitados
documents-hint = Suba un archivo por cada documento. { $company } revisa cada archivo: verá aquí cuándo se aprueba un documento o qué debe cambiar si no se aprueba.
documents-several-label = Subir varios archivos a la vez
documents-several-hint = Arrastre aquí varios archivos o selecciónelos. El primer archivo va al primer documento de la lista que aún lo necesite, el siguiente al siguiente, y así sucesivamente. Para enviar un archivo para un documento concreto, use el área de subida de ese documento.

## Credenciales

credentials-title = Credenciales
credentials-submitted-by = Enviadas por { $name } el { $time }
credentials-encrypted = Están cifradas. Una vez enviadas, no se pueden ver aquí: solo { $company } puede mostrarlas.
credentials-purged = { $company } ya las ha eliminado.
credentials-intro = Complete las credenciales y haga clic en Enviar credenciales para enviarlas de forma segura a { $company }. Están cifradas; una vez enviadas, no podrá volver a verlas aquí.
credentials-username = Nombre de usuario
credentials-password = Contraseña
credentials-show-password = Mostrar la contraseña
credentials-api-key = Clave de API
credentials-notes = Notas
credentials-notes-hint = (opcional: dirección de inicio de sesión, instrucciones de MFA, …)
credentials-submit = Enviar credenciales

## Depósito seguro de archivos

drops-title = Depósito seguro de archivos
drops-intro = Los archivos que deposite aquí se cifran y solo { $company } puede descargarlos. Cada archivo se elimina automáticamente { $keep } después de depositarlo. Puede eliminar un archivo usted mismo hasta que { $company } lo haya descargado.
drops-choose = Elija los archivos que desea depositar
drops-limit = Hasta { $max } cada uno. Puede elegir varios archivos a la vez.
drops-dropzone-hint = Arrastre aquí los archivos o selecciónelos: se envían de inmediato.
drops-submit = Depositar archivos
drops-empty = Todavía no se ha depositado ningún archivo.
# Un archivo que ya no está disponible: $state es "deleted" o "expired".
drop-gone = { $state ->
    [deleted] Eliminado
   *[expired] Caducado
}: ya no está disponible.
drop-expires-in = caduca en { $left }
drop-expires-on = (el { $time })
drop-downloaded = Descargado por su equipo de incorporación el { $time }
drop-delete = Eliminar
time-left-under-a-minute = menos de un minuto

## Firma

signature-title = Firma
signature-signed-by = Firmado por { $name } el { $time }
signature-certificate = <a href="{ $href }">Ver el certificado de evidencia</a> (firmante, hora y las huellas digitales que demuestran que la firma no se modificó)
signature-signed-document = Documento firmado:
signature-download = Descargar { $name }
signature-review = Revise el documento <strong>{ $name }</strong> antes de firmar.
signature-review-unshared = Revise el documento <strong>{ $name }</strong> antes de firmar. Su equipo de incorporación se lo compartirá si aún no lo tiene.
signature-frame-title = El documento que debe firmar: { $name }
signature-hint = Dibuje su firma en el recuadro o escriba su nombre completo; luego marque la declaración y haga clic en Enviar firma.
signature-pad = Dibuje aquí su firma (con el ratón, el dedo o un lápiz):
signature-clear = Borrar
signature-or-type = O, en lugar de dibujarla, escriba su nombre:
signature-typed-name = Su nombre completo
signature-submit = Enviar firma
# La declaración de consentimiento cuando el MSP no ha redactado la suya: se registra
# literalmente (y con su hash) en el idioma en que la leyó el firmante.
signature-default-consent = Acepto que esta es mi firma electrónica, que tiene la misma validez que mi firma manuscrita y que he revisado el documento mostrado arriba, si lo hay.

## Ayuda: "Necesito ayuda" y solicitudes de nueva fecha límite

help-title = ¿Necesita ayuda con esta tarea?
help-stuck-waiting = <strong>Esperando la ayuda de { $company }.</strong> Indicó que necesitaba ayuda el { $time }
help-stuck-waiting-reason = <strong>Esperando la ayuda de { $company }.</strong> Indicó que necesitaba ayuda el { $time }: “{ $reason }”
help-stuck-emailed = Se les ha avisado por correo y responderán en los comentarios de abajo. Mientras tanto, esta tarea no cuenta como vencida.
help-cleared = { $name } respondió el { $time }. Puede continuar con la tarea.
help-stuck-summary = Necesito ayuda
help-stuck-label = ¿Qué se lo impide?
help-stuck-hint = { $company } recibe un correo de inmediato y responde en los comentarios. Hasta 1000 caracteres.
help-stuck-submit = Avisar a { $company } de que necesito ayuda
help-requests-title = Solicitudes de nueva fecha límite
# El estado de una solicitud: $status es "pending", "approved" o "declined".
due-request-status = { $status ->
    [pending] Pendiente de { $company }
    [approved] Aprobada
   *[declined] Rechazada
}
due-request-asked = Solicitada por { $name } el { $time }: “{ $reason }”
# Una solicitud decidida: $approved es "yes" o "no".
due-request-decided = { $approved ->
    [yes] Aprobada
   *[no] Rechazada
} por { $name } el { $time }
due-request-decided-note = { $approved ->
    [yes] Aprobada
   *[no] Rechazada
} por { $name } el { $time }: “{ $note }”
help-due-summary = Solicitar una nueva fecha límite
help-due-label = Nueva fecha límite
help-due-hint = Hoy o más adelante. { $company } la aprueba o la rechaza; la fecha solo cambia una vez aprobada.
help-due-reason = ¿Por qué la necesita?
help-due-submit = Solicitar esta fecha

## Quién hace esta tarea (asumirla, traspasarla)

task-team-title = ¿Quién hace esta tarea?
task-team-nobody = Nadie de su equipo ha asumido esta tarea todavía.
task-team-claim = Asumir esta tarea
task-team-hand-off = Traspasar esta tarea a un compañero
task-team-colleague = Compañero
task-team-note = Nota para esa persona (opcional)
task-team-hint = Recibirá por correo un enlace a esta tarea; la nota se publica en los comentarios.
task-team-submit = Traspasarla

## Comentarios

comments-title = Comentarios
comments-empty = Todavía no hay comentarios. Pregunte o cuente a su equipo de incorporación lo que necesite sobre esta tarea.
comments-side-client = Cliente
comments-add = Añadir un comentario
comments-post = Publicar comentario
comments-handover = Su proveedor anterior y su equipo de incorporación hablan de este traspaso entre ellos. Pregunte a su equipo de incorporación si desea saber más.

## Un documento solicitado en una tarea de subida de documentos

doc-limits = Hasta { $limit }. Se aceptan: { $accepts }.
doc-earlier-versions = Versiones anteriores ({ $count })
doc-of = de { $name }
doc-choose-new = Elija el nuevo archivo
doc-choose = Elija un archivo
doc-dropzone-hint = Arrastre aquí un archivo o selecciónelo: se sube de inmediato.

## Las palabras del script de subida (documents.js), que las recibe como texto con
## huecos de tipo {name} (véase i18n::Texts::script_texts): un mensaje por forma.

js-upload-of = Subida de { $name }
js-state-waiting = En espera
js-state-uploading = Subiendo
js-state-uploaded = Subido
js-state-not-uploaded = No subido
js-state-sending = Enviando
js-state-dropped = Depositado
js-state-not-dropped = No depositado
js-byte = 1 byte
js-bytes = { $count } bytes
js-too-large-doc = { $name } ocupa { $size }, más que los { $limit } que admite «{ $doc }». No se ha enviado nada: reduzca el archivo y vuelva a subirlo.
js-connection-doc = { $name } no se ha subido para «{ $doc }»: la conexión se cortó antes de enviarlo. No se ha guardado nada: inténtelo de nuevo.
js-flagged = El análisis antivirus ha marcado { $name }, así que nadie puede abrirlo. Consulte la nota en «{ $doc }».
js-uploaded-doc = { $name } se ha subido para «{ $doc }». Ahora espera revisión.
js-upload-failed = La subida ha fallado (error { $status }). No se ha guardado nada: inténtelo de nuevo.
js-not-uploaded-doc = { $name } no se ha subido para «{ $doc }». { $detail }
js-too-large-drop = { $name } ocupa { $size }, más que los { $limit } que puede ocupar un archivo depositado. No se ha enviado nada: reduzca el archivo y vuelva a depositarlo.
js-connection-drop = { $name } no se ha depositado: la conexión se cortó antes de enviarlo. No se ha guardado nada: inténtelo de nuevo.
js-dropped = { $name } depositado.
js-not-dropped = { $name } no se ha depositado.
js-wait-uploading = Espere, por favor: los archivos que eligió antes aún se están subiendo.
js-wait-sending = Espere, por favor: los archivos que eligió antes aún se están enviando.
js-uploading-one = Subiendo { $name }.
js-uploading-many = Subiendo { $count } archivos, uno tras otro.
js-dropping-one = Depositando { $name }.
js-dropping-many = Depositando { $count } archivos, uno tras otro.
js-all-waiting = Todos los documentos tienen ya un archivo pendiente de revisión, así que no se ha subido nada. Para sustituir un archivo, use el área de subida de ese documento.
js-extra-one = Un archivo no se ha subido porque ya no hay documentos que esperen un archivo: { $names }. Para sustituir el archivo de un documento, use el área de subida de ese documento.
js-extra-many = { $count } archivos no se han subido porque ya no hay documentos que esperen un archivo: { $names }. Para sustituir el archivo de un documento, use el área de subida de ese documento.
js-one-file = «{ $doc }» admite un solo archivo, así que no se ha subido nada. Deposite aquí un solo archivo.
js-one-file-several = «{ $doc }» admite un solo archivo, así que no se ha subido nada. Deposite aquí un solo archivo, o deposítelos todos juntos en «Subir varios archivos a la vez», más arriba.

## Líneas que el portal escribe en el hilo de una tarea como mensaje del propio cliente.

thread-stuck = Estoy bloqueado: { $reason }
thread-handed = Se la he pasado a { $name }.
thread-handed-note = Se la he pasado a { $name }: { $note }

## Lo que dice la página de la tarea alrededor del motivo de un rechazo (el motivo está en reason.ftl).

upload-refused-title = El archivo no se ha subido
upload-refused-for = Su archivo para «{ $name }» no se ha subido. { $reason }
upload-refused = Su archivo no se ha subido. { $reason }
upload-forbidden = No puede subir esto: { $reason }.
drop-refused = Su archivo no se ha depositado. { $reason }
drop-refused-after = Depositados: { $dropped }. { $name } no se ha depositado, ni ningún archivo elegido después. { $reason }
drop-refused-next = Depositados: { $dropped }. El siguiente archivo no se ha depositado, ni ningún archivo elegido después. { $reason }
drop-forbidden = No puede depositar archivos aquí: { $reason }.
task-forbidden = No puede hacer eso: { $reason }.
