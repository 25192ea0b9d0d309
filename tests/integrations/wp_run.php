<?php
/**
 * Runs the plugin under wp_stub.php. Reads a JSON request on stdin, writes a JSON answer on stdout.
 *
 * Request: {"plugin": path, "options": {}, "caps": [], "is_admin": false, "content": [post texts], "sanitize": [values]}
 * Answer:  {"content": [rendered texts], "scripts": [enqueued], "sanitized": [...], "settings_errors": [...], "hooks": {...}}
 */

require __DIR__ . '/wp_stub.php';

$request                         = json_decode( stream_get_contents( STDIN ), true );
$GLOBALS['wp_stub']['options']  = $request['options'] ?? array();
$GLOBALS['wp_stub']['caps']     = $request['caps'] ?? array();
$GLOBALS['wp_stub']['is_admin'] = $request['is_admin'] ?? false;

require $request['plugin'];
do_action( 'init' );

$answer = array(
	'content'         => array_map( 'do_shortcode', $request['content'] ?? array() ),
	'sanitized'       => array_map( 'openconsult_sanitize_address', $request['sanitize'] ?? array() ),
	'scripts'         => $GLOBALS['wp_stub']['scripts'],
	'settings_errors' => $GLOBALS['wp_stub']['settings_errors'],
	'hooks'           => array(
		'actions'    => array_keys( $GLOBALS['wp_stub']['actions'] ),
		'filters'    => array_keys( $GLOBALS['wp_stub']['filters'] ),
		'shortcodes' => array_keys( $GLOBALS['wp_stub']['shortcodes'] ),
	),
);
echo json_encode( $answer, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRETTY_PRINT );
